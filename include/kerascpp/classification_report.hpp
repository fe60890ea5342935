// kerascpp/classification_report.hpp — how a trained classifier does on a data set, as
// scikit-learn reports it: `confusion_matrix` (rows: true classes, columns: predicted classes) and
// `classification_report` (per class precision, recall, f1-score and support, then accuracy, macro
// and weighted averages, printed in scikit-learn's layout). A model's outputs become classes as
// Keras's accuracies read them: one sigmoid column is class 1 where ŷ > 0.5, several columns are
// the argmax; targets are class indices (one column) or one-hot rows.
#pragma once

#include <kerascpp/core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <new>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace kerascpp {

/// counts(i, j): samples of true class i predicted as class j.
using ConfusionMatrix = Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The predicted class of each row of a model's outputs (rows × columns): ŷ > 0.5 for one column,
/// else the first largest column.
template <typename D>
std::vector<Index> predicted_classes(const Eigen::MatrixBase<D>& outputs) {
  std::vector<Index> out(static_cast<std::size_t>(outputs.rows()));
  for (Index i = 0; i < outputs.rows(); ++i) {
    if (outputs.cols() == 1) {
      out[static_cast<std::size_t>(i)] = outputs(i, 0) > typename D::Scalar(0.5) ? 1 : 0;
    } else {
      Index best = 0;
      for (Index j = 1; j < outputs.cols(); ++j)
        if (outputs(i, j) > outputs(i, best)) best = j;
      out[static_cast<std::size_t>(i)] = best;
    }
  }
  return out;
}

/// The true class of each row of y for a model with `classes` classes: y holds class indices (one
/// column; integers in [0, classes)) or one-hot rows (`classes` columns; the first largest).
template <typename D>
std::vector<Index> true_classes(const Eigen::MatrixBase<D>& y, Index classes, std::string_view where) {
  std::vector<Index> out(static_cast<std::size_t>(y.rows()));
  if (y.cols() == 1) {
    for (Index i = 0; i < y.rows(); ++i) {
      const double v = static_cast<double>(y(i, 0));
      if (!(v >= 0 && v < static_cast<double>(classes) && v == std::floor(v)))
        detail::fail(where, ": y must hold class indices, integers in [0, ", classes, "), received ", v, " at row ", i);
      out[static_cast<std::size_t>(i)] = static_cast<Index>(v);
    }
    return out;
  }
  if (y.cols() != classes)
    detail::fail(where, ": y has ", y.cols(), " columns; expected 1 (class indices) or ", classes,
                 " (one-hot rows, one column per class)");
  for (Index i = 0; i < y.rows(); ++i) {
    Index best = 0;
    for (Index j = 0; j < y.cols(); ++j) {
      if (std::isnan(static_cast<double>(y(i, j))))
        detail::fail(where, ": y must hold one-hot rows, received nan at row ", i, ", column ", j);
      if (y(i, j) > y(i, best)) best = j;
    }
    if (!(y(i, best) > 0))
      detail::fail(where, ": y must hold one-hot rows (a positive entry for the class), received row ", i,
                   " whose largest entry is ", static_cast<double>(y(i, best)));
    out[static_cast<std::size_t>(i)] = best;
  }
  return out;
}

/// The largest class count of a confusion matrix: 16384 classes, 2^28 cells.
inline constexpr Index max_confusion_classes = Index(1) << 14;

/// The confusion matrix of class indices (classes × classes, `classes` at least the largest index
/// + 1; 0: exactly that). Every class gets a row and a column, also one absent from both vectors
/// (scikit-learn keeps only the labels present unless given `labels`).
inline ConfusionMatrix confusion_matrix(const std::vector<Index>& y_true, const std::vector<Index>& y_pred,
                                        Index classes = 0) {
  if (y_true.size() != y_pred.size())
    detail::fail("confusion_matrix: y_true has ", y_true.size(), " labels but y_pred has ", y_pred.size());
  if (classes < 0)
    detail::fail("confusion_matrix: classes must be non-negative (0: the largest label + 1), received classes=",
                 classes);
  Index largest = -1;
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    if (y_true[i] < 0 || y_pred[i] < 0)
      detail::fail("confusion_matrix: class indices must be non-negative, received ", std::min(y_true[i], y_pred[i]),
                   " at position ", i);
    largest = std::max({largest, y_true[i], y_pred[i]});
  }
  if (classes != 0 && classes <= largest)
    detail::fail("confusion_matrix: classes=", classes, " but the labels hold class ", largest);
  if (classes > max_confusion_classes || largest >= max_confusion_classes) {
    const double n = classes != 0 ? static_cast<double>(classes) : static_cast<double>(largest) + 1.0;
    detail::fail("confusion_matrix: at most ", max_confusion_classes, " classes (",
                 max_confusion_classes * max_confusion_classes, " cells) fit in a confusion matrix, received classes=",
                 classes, " with largest label ", largest, ", which needs ", n, " × ", n, " = ", n * n, " cells");
  }
  if (classes == 0) classes = largest + 1;
  ConfusionMatrix m;
  try {
    m = ConfusionMatrix::Zero(classes, classes);
  } catch (const std::bad_alloc&) {
    detail::fail("confusion_matrix: could not allocate a matrix of ", classes, "×", classes, " cells");
  }
  for (std::size_t i = 0; i < y_true.size(); ++i) ++m(y_true[i], y_pred[i]);
  return m;
}

/// The confusion matrix of `model` on x and y: classes × classes, where a model with one output
/// column has the 2 classes 0 and 1.
template <typename Model, typename DX, typename DY>
  requires requires(Model& m, const Eigen::MatrixBase<DX>& x) { m.predict(x); }
ConfusionMatrix confusion_matrix(Model& model, const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DY>& y) {
  if (x.rows() != y.rows()) detail::fail("confusion_matrix: x has ", x.rows(), " rows but y has ", y.rows());
  const auto outputs = model.predict(x);
  const Index classes = std::max<Index>(outputs.cols(), 2);
  return confusion_matrix(true_classes(y, classes, "confusion_matrix"), predicted_classes(outputs), classes);
}

/// Per class and averaged precision, recall and F1 of a classifier, and the text
/// scikit-learn's classification_report prints for them (zero_division=0: a ratio whose
/// denominator is 0 is 0).
struct ClassificationReport {
  struct Row {
    std::string name;
    double precision = 0.0;
    double recall = 0.0;
    double f1_score = 0.0;
    Index support = 0;
  };
  std::vector<Row> classes;  // one per class, in class order
  double accuracy = 0.0;
  Row macro_avg;     // unweighted means over the classes
  Row weighted_avg;  // means weighted by the classes' supports
  ConfusionMatrix confusion;
  int digits = 2;

  /// scikit-learn 1.2's layout: a header, a row per class, then accuracy, macro avg and weighted
  /// avg, values with `digits` decimals in columns 9 wide after names right-aligned to the longest.
  std::string text() const {
    std::size_t width = std::string_view("weighted avg").size();
    for (const auto& r : classes) width = std::max(width, r.name.size());
    width = std::max(width, static_cast<std::size_t>(digits));
    const auto name = [&](const std::string& s) {  // right-aligned to `width`, then a space
      return std::string(width - std::min(width, s.size()), ' ') + s + ' ';
    };
    const auto column = [](const std::string& s) {  // a space, then right-aligned to 9
      return ' ' + std::string(9 - std::min<std::size_t>(9, s.size()), ' ') + s;
    };
    const auto number = [&](double v) {  // printf's %.<digits>f, correctly rounded as Python's format
      std::string text(static_cast<std::size_t>(digits) + 32, '\0');
      const int length = std::snprintf(text.data(), text.size(), "%.*f", digits, v);
      text.resize(static_cast<std::size_t>(std::max(length, 0)));
      return column(text);
    };
    const auto row = [&](const Row& r) {
      return name(r.name) + number(r.precision) + number(r.recall) + number(r.f1_score) +
             column(std::to_string(r.support)) + '\n';
    };
    std::string out =
        name("") + column("precision") + column("recall") + column("f1-score") + column("support") + "\n\n";
    for (const auto& r : classes) out += row(r);
    out += '\n';
    out += name("accuracy") + column("") + column("") + number(accuracy) + column(std::to_string(macro_avg.support)) +
           '\n';
    out += row(macro_avg);
    out += row(weighted_avg);
    return out;
  }
};

inline std::ostream& operator<<(std::ostream& os, const ClassificationReport& report) { return os << report.text(); }

/// The report of class indices y_true and y_pred over `classes` classes (0: the largest index
/// + 1). `target_names` names the classes (default: their indices); `digits` decimals are printed.
inline ClassificationReport classification_report(const std::vector<Index>& y_true, const std::vector<Index>& y_pred,
                                                  Index classes = 0, const std::vector<std::string>& target_names = {},
                                                  int digits = 2) {
  if (digits < 0 || digits > 17)
    detail::fail("classification_report: digits must be in [0, 17], received digits=", digits);
  if (y_true.empty() && y_pred.empty())
    detail::fail("classification_report: no labels: y_true and y_pred are empty; expected at least one sample");
  ClassificationReport report;
  report.digits = digits;
  report.confusion = confusion_matrix(y_true, y_pred, classes);
  const ConfusionMatrix& m = report.confusion;
  const Index n = m.rows();
  if (!target_names.empty() && static_cast<Index>(target_names.size()) != n)
    detail::fail("classification_report: target_names has ", target_names.size(), " names but there are ", n,
                 " classes");
  const auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };  // zero_division=0
  Index total = 0, correct = 0;
  for (Index c = 0; c < n; ++c) {
    ClassificationReport::Row r;
    r.name = target_names.empty() ? std::to_string(c) : target_names[static_cast<std::size_t>(c)];
    const double tp = static_cast<double>(m(c, c));
    r.support = m.row(c).sum();
    r.precision = ratio(tp, static_cast<double>(m.col(c).sum()));  // TP / predicted as c
    r.recall = ratio(tp, static_cast<double>(r.support));          // TP / truly c
    const double denominator = r.precision + r.recall;
    r.f1_score = denominator > 0 ? 2 * r.precision * r.recall / denominator : 0.0;  // 2PR / (P + R)
    total += r.support;
    correct += m(c, c);
    report.classes.push_back(r);
  }
  report.accuracy = ratio(static_cast<double>(correct), static_cast<double>(total));
  report.macro_avg.name = "macro avg";
  report.weighted_avg.name = "weighted avg";
  report.macro_avg.support = report.weighted_avg.support = total;
  ClassificationReport::Row& macro = report.macro_avg;
  ClassificationReport::Row& weighted = report.weighted_avg;
  for (const auto& r : report.classes) {
    const double s = static_cast<double>(r.support);
    macro.precision += r.precision, macro.recall += r.recall, macro.f1_score += r.f1_score;
    weighted.precision += r.precision * s, weighted.recall += r.recall * s, weighted.f1_score += r.f1_score * s;
  }
  const double count = static_cast<double>(n), support = static_cast<double>(total);
  macro.precision /= count, macro.recall /= count, macro.f1_score /= count;  // Σ_c v_c / classes
  weighted.precision = ratio(weighted.precision, support);                     // Σ_c v_c·support_c / Σ_c support_c
  weighted.recall = ratio(weighted.recall, support);
  weighted.f1_score = ratio(weighted.f1_score, support);
  return report;
}

/// The classification report of `model` on x and y (see confusion_matrix for how outputs and
/// targets become classes).
template <typename Model, typename DX, typename DY>
  requires requires(Model& m, const Eigen::MatrixBase<DX>& x) { m.predict(x); }
ClassificationReport classification_report(Model& model, const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DY>& y,
                                           const std::vector<std::string>& target_names = {}, int digits = 2) {
  if (x.rows() != y.rows()) detail::fail("classification_report: x has ", x.rows(), " rows but y has ", y.rows());
  const auto outputs = model.predict(x);
  const Index classes = std::max<Index>(outputs.cols(), 2);
  return classification_report(true_classes(y, classes, "classification_report"), predicted_classes(outputs), classes,
                               target_names, digits);
}

}  // namespace kerascpp
