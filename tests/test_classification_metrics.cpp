// Tests of the classification metrics (metrics/confusion_metrics.hpp, metrics/f_score_metrics.hpp)
// and of confusion_matrix and classification_report (classification_report.hpp): Keras's formulas
// by hand on tiny cases, scikit-learn 1.2 on the predictions of tests/data/classification_metrics/
// (written by tools/make_metrics_reference.py), the epoch-long accumulation of their states in fit
// and evaluate, on one thread and split between two, and the errors of bad arguments.
#include <catch2/catch.hpp>
#include <kerascpp/kerascpp.hpp>

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_classification_metrics {

using Catch::Contains;
using Catch::StartsWith;
using kerascpp::ConfusionMatrix;
using kerascpp::Index;
using kerascpp::Logs;
using kerascpp::Matrix;
using kerascpp::RowMatrix;
using kerascpp::Sequential;
using kerascpp::ValueError;
using kerascpp::Vector;
namespace metrics = kerascpp::metrics;
namespace layers = kerascpp::layers;

std::string reference_path(const std::string& name) {
  return std::string(KERASCPP_TEST_DATA_DIR) + "/classification_metrics/" + name;
}

std::string read_text(const std::string& name) {
  std::ifstream in(reference_path(name));
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// reference.txt: "key|number|number|..." per line.
const std::vector<double>& reference(const std::string& key) {
  static const std::map<std::string, std::vector<double>> lists = [] {
    std::ifstream in(reference_path("reference.txt"));
    REQUIRE(in.good());
    std::map<std::string, std::vector<double>> out;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream fields(line);
      std::string key, item;
      std::getline(fields, key, '|');
      std::vector<double> values;
      while (std::getline(fields, item, '|')) values.push_back(std::stod(item));
      out[key] = values;
    }
    return out;
  }();
  const auto found = lists.find(key);
  INFO("reference.txt key: " << key);
  REQUIRE(found != lists.end());
  return found->second;
}

double value(const std::string& key) { return reference(key).at(0); }

template <typename Scalar>
RowMatrix<Scalar> column(const std::vector<double>& v) {
  RowMatrix<Scalar> m(static_cast<Index>(v.size()), 1);
  for (std::size_t i = 0; i < v.size(); ++i) m(static_cast<Index>(i), 0) = static_cast<Scalar>(v[i]);
  return m;
}

template <typename Scalar>
Vector<Scalar> weights(const std::string& key) {
  return column<Scalar>(reference(key));
}

/// The 3-class outputs (rows × 3) and one-hot targets of the multi-class reference problem.
template <typename Scalar>
RowMatrix<Scalar> multi_outputs() {
  const auto& p0 = reference("multi_p0");
  RowMatrix<Scalar> p(static_cast<Index>(p0.size()), 3);
  for (int c = 0; c < 3; ++c) p.col(c) = column<Scalar>(reference("multi_p" + std::to_string(c)));
  return p;
}

template <typename Scalar>
RowMatrix<Scalar> multi_onehot() {
  const auto& y = reference("multi_y");
  RowMatrix<Scalar> m = RowMatrix<Scalar>::Zero(static_cast<Index>(y.size()), 3);
  for (std::size_t i = 0; i < y.size(); ++i) m(static_cast<Index>(i), static_cast<Index>(y[i])) = 1;
  return m;
}

std::vector<Index> labels(const std::string& key) {
  std::vector<Index> out;
  for (double v : reference(key)) out.push_back(static_cast<Index>(v));
  return out;
}

template <typename F>
std::string thrown_message(F&& f) {
  try {
    f();
  } catch (const ValueError& e) {
    return e.what();
  }
  FAIL("no ValueError was thrown");
  return {};
}

/// Σ_b pos_b·neg_b / (2·P·N) over Keras's buckets, read from an AUC state: the most by which the
/// AUC of bucketed predictions can differ from the exact AUC (only a positive and a negative in the
/// same bucket are compared differently: as a tie, worth 1/2, instead of 0 or 1).
double tie_bound(const std::vector<double>& state, std::size_t thresholds) {
  double sum = 0.0;
  for (std::size_t b = 0; b < thresholds; ++b) sum += state[b] * state[thresholds + b];
  return sum / (2.0 * state[2 * thresholds] * state[2 * thresholds + 1]);
}

template <typename Scalar>
double auc_of(const metrics::AUC<Scalar>& m, const RowMatrix<Scalar>& y, const RowMatrix<Scalar>& p,
              const Vector<Scalar>& w = {}) {
  return metrics::compute(m, y, p, w).at(m.name());
}

/// A model whose output is its input (one linear Dense layer with an identity kernel), so that a
/// model's predictions can be chosen exactly.
template <typename Scalar>
Sequential<Scalar> identity_model(Index width) {
  Sequential<Scalar> model{layers::Dense<Scalar>(width, "linear", kerascpp::input_shape{width})};
  model.set_weights({Matrix<Scalar>(Matrix<Scalar>::Identity(width, width)), Matrix<Scalar>(Matrix<Scalar>::Zero(1, width))});
  return model;
}

struct ThreadsGuard {
  explicit ThreadsGuard(int n) { kerascpp::set_num_threads(n); }
  ~ThreadsGuard() { kerascpp::set_num_threads(1); }
};

TEST_CASE("AUC follows Keras's formulas on the 4-sample case of its documentation, by hand",
          "[classification_metrics][auc]") {
  // Keras's docstring: thresholds {−1e-7, 0.5, 1 + 1e-7}; y = 0 0 1 1, ŷ = 0 0.5 0.3 0.9 gives
  // TP = (2, 1, 0), FP = (2, 0, 0), FN = (0, 1, 2), TN = (0, 2, 2); recall = (1, 0.5, 0), false
  // positive rate = (1, 0, 0), precision = (0.5, 1, 0).
  const RowMatrix<double> y = column<double>({0, 0, 1, 1});
  const RowMatrix<double> p = column<double>({0, 0.5, 0.3, 0.9});
  const metrics::AUC<double> roc(3);
  REQUIRE(roc.thresholds().size() == 3);
  CHECK(roc.thresholds()[0] == -1e-7);
  CHECK(roc.thresholds()[1] == 0.5);
  CHECK(roc.thresholds()[2] == 1.0 + 1e-7);
  // ROC, trapezoids: (1 − 0)·(1 + 0.5)/2 + (0 − 0)·(0.5 + 0)/2 = 0.75 (Keras's documented value).
  CHECK(auc_of(roc, y, p) == Approx(0.75).margin(1e-15));
  // With sample_weight (1, 0, 0, 1) only ŷ = 0 (negative) and 0.9 (positive) count: 1.0.
  CHECK(auc_of(roc, y, p, Vector<double>(column<double>({1, 0, 0, 1}))) == Approx(1.0).margin(1e-15));
  // ROC minoring: 1·min(1, 0.5) = 0.5; majoring: 1·max(1, 0.5) = 1.
  CHECK(auc_of(metrics::AUC<double>(3, "ROC", "minoring"), y, p) == Approx(0.5).margin(1e-15));
  CHECK(auc_of(metrics::AUC<double>(3, "ROC", "majoring"), y, p) == Approx(1.0).margin(1e-15));
  // PR minoring: (1 − 0.5)·min(0.5, 1) + (0.5 − 0)·min(1, 0) = 0.25; majoring: 0.5·1 + 0.5·1 = 1.
  CHECK(auc_of(metrics::AUC<double>(3, "PR", "minoring"), y, p) == Approx(0.25).margin(1e-15));
  CHECK(auc_of(metrics::AUC<double>(3, "PR", "majoring"), y, p) == Approx(1.0).margin(1e-15));
  // PR interpolation (Davis & Goadrich as Keras writes it), P = TP + FP = (4, 1, 0):
  //   interval 0→1: slope = dTP/dP = 1/3, intercept = TP_1 − slope·P_1 = 2/3,
  //                 slope·(dTP + intercept·ln(P_0/P_1)) / (TP_1 + FN_1) = (1 + (2/3)·ln 4) / 6
  //   interval 1→2: slope = 1, intercept = 0, P_2 = 0 so the ratio is 1: 1·(1 + 0) / 2 = 1/2
  const double by_hand = (1.0 + 2.0 / 3.0 * std::log(4.0)) / 6.0 + 0.5;  // 0.82069...
  CHECK(auc_of(metrics::AUC<double>(3, "PR"), y, p) == Approx(by_hand).margin(1e-15));
  // Given thresholds are sorted and framed by −1e-7 and 1 + 1e-7: {0.5} is the same curve.
  CHECK(auc_of(metrics::AUC<double>(200, "ROC", "interpolation", "auc", {0.5}), y, p) == Approx(0.75).margin(1e-15));
  // Uneven thresholds {0.2, 0.4}: ŷ = 0.3 (positive) is above 0.2 only, ŷ = 0.5 (negative) above
  // both; thresholds (−ε, 0.2, 0.4, 1 + ε) give recall (1, 1, 0.5, 0) and FPR (1, 0.5, 0.5, 0):
  // (1 − 0.5)·(1 + 1)/2 + 0 + (0.5 − 0)·(0.5 + 0)/2 = 0.625.
  CHECK(auc_of(metrics::AUC<double>(200, "ROC", "interpolation", "auc", {0.4, 0.2}), y, p) ==
        Approx(0.625).margin(1e-15));
}

TEMPLATE_TEST_CASE("AUC equals Keras's formulas and scikit-learn's AUC within its 200-threshold error",
                   "[classification_metrics][auc]", float, double) {
  using Scalar = TestType;
  const RowMatrix<Scalar> y = column<Scalar>(reference("binary_y"));
  const RowMatrix<Scalar> p = column<Scalar>(reference("binary_p"));
  for (const bool weighted : {false, true}) {
    const std::string suffix = weighted ? "_weighted" : "";
    const Vector<Scalar> w = weighted ? weights<Scalar>("binary_w") : Vector<Scalar>();
    INFO("weighted " << weighted);
    for (const std::string curve : {"ROC", "PR"})
      for (const std::string summation : {"interpolation", "minoring", "majoring"}) {
        INFO(curve << " " << summation);
        // The buckets are computed in the Scalar (float as Keras does), the counts of weights that
        // are multiples of 0.25 are exact, and the result is computed in double: the numpy
        // evaluation of Keras's formula agrees to rounding.
        CHECK(auc_of(metrics::AUC<Scalar>(200, curve, summation), y, p, w) ==
              Approx(value("keras_" + curve + "_" + summation + suffix)).margin(1e-12));
      }
    const metrics::AUC<Scalar> roc;
    const std::vector<double> state = metrics::accumulate(roc, y, p, w);
    const double auc = auc_of(roc, y, p, w);
    // Trapezoids over Keras's thresholds are the exact AUC of the bucketed predictions (a tie
    // counts 1/2 in both) ...
    CHECK(auc == Approx(value("roc_auc_bucketed" + suffix)).margin(1e-12));
    // ... so they differ from scikit-learn's exact AUC by at most the pairs that share a bucket.
    const double bound = tie_bound(state, 200);
    INFO("ROC AUC " << auc << ", scikit-learn " << value("roc_auc" + suffix) << ", bound " << bound);
    CHECK(bound < 5e-3);  // 200 thresholds leave less than half a percent of the pairs tied
    CHECK(std::abs(auc - value("roc_auc" + suffix)) <= bound);
    // PR: the interpolated precision is monotone within each interval, so Keras's area lies
    // between its minoring and majoring sums; Keras documents their gap as the size of the
    // approximation error, and scikit-learn's average precision (a step sum over every
    // distinct prediction) lies within that gap of it.
    const double pr = auc_of(metrics::AUC<Scalar>(200, "PR"), y, p, w);
    const double low = auc_of(metrics::AUC<Scalar>(200, "PR", "minoring"), y, p, w);
    const double high = auc_of(metrics::AUC<Scalar>(200, "PR", "majoring"), y, p, w);
    INFO("PR AUC " << pr << " in [" << low << ", " << high << "], average precision "
                   << value("average_precision" + suffix));
    CHECK(low <= pr);
    CHECK(pr <= high);
    CHECK(high - low < 0.02);
    CHECK(std::abs(pr - value("average_precision" + suffix)) <= high - low);
  }
}

TEMPLATE_TEST_CASE("Precision and Recall equal scikit-learn's at threshold 0.5, also for one class_id",
                   "[classification_metrics][precision]", float, double) {
  using Scalar = TestType;
  // Keras's formulas have no epsilon: TP / (TP + FP) of exact weighted counts, to rounding.
  const RowMatrix<Scalar> y = column<Scalar>(reference("binary_y"));
  const RowMatrix<Scalar> p = column<Scalar>(reference("binary_p"));
  const RowMatrix<Scalar> onehot = multi_onehot<Scalar>();
  const RowMatrix<Scalar> outputs = multi_outputs<Scalar>();
  for (const bool weighted : {false, true}) {
    INFO("weighted " << weighted);
    const std::string suffix = weighted ? "_weighted" : "";
    const Vector<Scalar> w = weighted ? weights<Scalar>("binary_w") : Vector<Scalar>();
    const Vector<Scalar> wm = weighted ? weights<Scalar>("multi_w") : Vector<Scalar>();
    CHECK(metrics::compute(metrics::Precision<Scalar>(), y, p, w).at("precision") ==
          Approx(value("precision" + suffix)).margin(1e-12));
    CHECK(metrics::compute(metrics::Recall<Scalar>(), y, p, w).at("recall") ==
          Approx(value("recall" + suffix)).margin(1e-12));
    CHECK(metrics::compute(metrics::Precision<Scalar>(0.5, 2), onehot, outputs, wm).at("precision") ==
          Approx(value("precision_class2" + suffix)).margin(1e-12));
    CHECK(metrics::compute(metrics::Recall<Scalar>(0.5, 2), onehot, outputs, wm).at("recall") ==
          Approx(value("recall_class2" + suffix)).margin(1e-12));
  }
  // Nothing predicted positive: precision is 0 (Keras's divide_no_nan), and a threshold moves the
  // decision: ŷ = 0.7 is positive at 0.5 and negative at 0.7 (strictly greater counts).
  CHECK(metrics::compute(metrics::Precision<double>(), column<double>({1, 0}), column<double>({0.2, 0.1}))
            .at("precision") == 0.0);
  CHECK(metrics::compute(metrics::Recall<double>(0.7), column<double>({1, 1}), column<double>({0.7, 0.9}))
            .at("recall") == 0.5);
}

TEMPLATE_TEST_CASE("F1Score and FBetaScore equal scikit-learn's for every average", "[classification_metrics][f1]",
                   float, double) {
  using Scalar = TestType;
  // Keras adds epsilon = 1e-7 to the denominators of precision, recall and F: with counts of at
  // least several units, each ratio moves by less than 1e-7 relative, so the scores agree with
  // scikit-learn's to 1e-6.
  constexpr double tolerance = 1e-6;
  const RowMatrix<Scalar> onehot = multi_onehot<Scalar>();
  const RowMatrix<Scalar> outputs = multi_outputs<Scalar>();
  for (const bool weighted : {false, true}) {
    INFO("weighted " << weighted);
    const std::string suffix = weighted ? "_weighted" : "";
    const Vector<Scalar> w = weighted ? weights<Scalar>("multi_w") : Vector<Scalar>();
    const Logs per_class = metrics::compute(metrics::F1Score<Scalar>(), onehot, outputs, w);
    REQUIRE(per_class.size() == 3);
    for (int c = 0; c < 3; ++c)
      CHECK(per_class.at("f1_score_" + std::to_string(c)) == Approx(reference("f1_none" + suffix)[c]).margin(tolerance));
    for (const std::string average : {"micro", "macro", "weighted"}) {
      INFO("average " << average);
      CHECK(metrics::compute(metrics::F1Score<Scalar>(average), onehot, outputs, w).at("f1_score") ==
            Approx(value("f1_" + average + suffix)).margin(tolerance));
      CHECK(metrics::compute(metrics::FBetaScore<Scalar>(average, 2.0), onehot, outputs, w).at("fbeta_score") ==
            Approx(value("f2_" + average + suffix)).margin(tolerance));
    }
    // One sigmoid column with a threshold: the binary F1 of the positive class.
    const RowMatrix<Scalar> y = column<Scalar>(reference("binary_y"));
    const RowMatrix<Scalar> p = column<Scalar>(reference("binary_p"));
    const Vector<Scalar> wb = weighted ? weights<Scalar>("binary_w") : Vector<Scalar>();
    CHECK(metrics::compute(metrics::F1Score<Scalar>(std::nullopt, 0.5), y, p, wb).at("f1_score") ==
          Approx(value("f1_binary" + suffix)).margin(tolerance));
  }
  // Keras's docstring example: F1Score(threshold=0.5) per class is (0.5, 0.8, 0.6666667).
  RowMatrix<double> y(3, 3), p(3, 3);
  y << 1, 1, 1, 1, 0, 0, 1, 1, 0;
  p << 0.2, 0.6, 0.7, 0.2, 0.6, 0.6, 0.6, 0.8, 0.0;
  const Logs doc = metrics::compute(metrics::F1Score<double>(std::nullopt, 0.5), y, p);
  CHECK(doc.at("f1_score_0") == Approx(0.5).margin(1e-6));
  CHECK(doc.at("f1_score_1") == Approx(0.8).margin(1e-6));
  CHECK(doc.at("f1_score_2") == Approx(2.0 / 3.0).margin(1e-6));
  // Without a threshold a row of zeros predicts no class (not every class).
  const Logs zeros = metrics::compute(metrics::F1Score<double>("micro"), RowMatrix<double>::Identity(2, 2),
                                      RowMatrix<double>::Zero(2, 2));
  CHECK(zeros.at("f1_score") == 0.0);
}

TEST_CASE("A metric's state over a data set is the sum of its batches' states, not a mean over batches",
          "[classification_metrics][state]") {
  const RowMatrix<double> y = column<double>(reference("binary_y"));
  const RowMatrix<double> p = column<double>(reference("binary_p"));
  const Vector<double> w = weights<double>("binary_w");
  const metrics::AUC<double> auc;
  const std::vector<double> whole = metrics::accumulate(auc, y, p, w);
  std::vector<double> parts(whole.size(), 0.0);
  double mean_of_batches = 0.0;
  for (Index start = 0; start < y.rows(); start += 100) {
    const std::vector<double> part =
        metrics::accumulate(auc, y.middleRows(start, 100), p.middleRows(start, 100), Vector<double>(w.segment(start, 100)));
    for (std::size_t k = 0; k < parts.size(); ++k) parts[k] += part[k];
    std::vector<double> v(1);
    auc.result(part, v);
    mean_of_batches += v[0] / 4.0;
  }
  CHECK(parts == whole);  // weighted counts of multiples of 0.25: exact
  const double epoch = auc_of(auc, y, p, w);
  INFO("AUC of the data " << epoch << ", mean of the 4 batches' AUCs " << mean_of_batches);
  CHECK(std::abs(epoch - mean_of_batches) > 1e-3);  // the test below can tell the two apart

  // evaluate in batches of 7 reports the AUC of all rows, for a model whose output is its input.
  Sequential<double> model = identity_model<double>(1);
  model.compile("sgd", "mse", {"auc", "precision", "recall", "f1_score", "mae"});
  const Logs scores = model.evaluate(p, y, {.batch_size = 7, .sample_weight = w});
  CHECK(scores.at("auc") == Approx(epoch).margin(1e-12));
  CHECK(scores.at("auc") == Approx(value("keras_ROC_interpolation_weighted")).margin(1e-12));
  CHECK(scores.at("precision") == Approx(value("precision_weighted")).margin(1e-12));
  CHECK(scores.at("recall") == Approx(value("recall_weighted")).margin(1e-12));
  // "f1_score" by name is Keras's F1Score(): no threshold, so one column is always predicted 1.
  CHECK(scores.at("f1_score") == Approx(metrics::compute(metrics::F1Score<double>(), y, p, w).at("f1_score")).margin(1e-12));
  // A mean keeps its numbers: Σ w_i·|ŷ_i − y_i| / Σ w_i.
  CHECK(scores.at("mae") == Approx((w.array() * (p - y).col(0).array().abs()).sum() / w.sum()).epsilon(1e-12));
}

TEST_CASE("compile accepts auc, precision, recall and f1_score by name and History has Keras's keys",
          "[classification_metrics][history]") {
  const RowMatrix<float> p = column<float>(reference("binary_p"));
  const RowMatrix<float> y = column<float>(reference("binary_y"));
  Sequential<float> model{layers::Dense<float>(8, "relu", kerascpp::input_shape{1}), layers::Dense<float>(1, "sigmoid")};
  model.set_seed(3);
  model.compile("adam", "binary_crossentropy", {"auc", "precision", "recall", "f1_score", "binary_accuracy"});
  const auto history = model.fit(p, y, {.batch_size = 32, .epochs = 2, .verbose = 0, .validation_split = 0.25});
  for (const std::string key : {"loss", "auc", "precision", "recall", "f1_score", "binary_accuracy", "val_loss",
                                "val_auc", "val_precision", "val_recall", "val_f1_score", "val_binary_accuracy"}) {
    INFO("key " << key);
    REQUIRE(history.has(key));
    CHECK(history.at(key).size() == 2);
  }
  // The model is monotone in its input (or constant), so its AUC on the last quarter is the AUC of
  // the inputs there, or 0.5 for a constant output.
  const double val_auc = history.at("val_auc").back();
  CHECK(val_auc >= 0.0);
  CHECK(val_auc <= 1.0);

  // Several classes: F1Score() reports each class under f1_score_<class>; an average, one value.
  const RowMatrix<float> outputs = multi_outputs<float>();
  const RowMatrix<float> onehot = multi_onehot<float>();
  Sequential<float> identity = identity_model<float>(3);
  identity.compile("sgd", "categorical_crossentropy",
                   {"f1_score", metrics::F1Score<float>("macro", std::nullopt, "macro_f1")});
  const Logs scores = identity.evaluate(outputs, onehot, {.batch_size = 64});
  for (int c = 0; c < 3; ++c)
    CHECK(scores.at("f1_score_" + std::to_string(c)) == Approx(reference("f1_none")[c]).margin(1e-6));
  CHECK(scores.at("macro_f1") == Approx(value("f1_macro")).margin(1e-6));
  CHECK(scores.count("f1_score") == 0);
}

TEST_CASE("EarlyStopping and the other monitors maximize auc, precision, recall and F-scores in auto mode",
          "[classification_metrics][callbacks]") {
  using kerascpp::callbacks::Mode;
  using kerascpp::callbacks::resolve_max;
  for (const std::string key : {"val_auc", "val_precision", "recall", "val_f1_score", "val_f1_score_2",
                                "fbeta_score", "val_pr_auc", "val_accuracy"}) {
    INFO(key);
    CHECK(resolve_max(Mode::auto_, key));
  }
  for (const std::string key : {"val_loss", "val_mae", "loss", "val_precision_2x", "f1_score_", "val_recall_0"}) {
    INFO(key);
    CHECK_FALSE(resolve_max(Mode::auto_, key));
  }
  CHECK_FALSE(resolve_max(Mode::min, "val_auc"));
}

TEST_CASE("Splitting a batch between two threads gives the same classification metrics",
          "[classification_metrics][threads]") {
  const RowMatrix<double> inputs = [] {
    RowMatrix<double> m(512, 16);
    kerascpp::Rng rng(11);
    for (Index i = 0; i < m.size(); ++i) m.data()[i] = rng.uniform(-1.0, 1.0);
    return m;
  }();
  RowMatrix<double> y(512, 1);
  for (Index i = 0; i < y.rows(); ++i) y(i, 0) = inputs(i, 0) + 0.5 * inputs(i, 1) > 0 ? 1.0 : 0.0;
  Vector<double> w(512);
  for (Index i = 0; i < w.size(); ++i) w(i) = 0.1 + 0.013 * static_cast<double>(i % 37);
  const auto make_model = [] {
    Sequential<double> model{layers::Dense<double>(256, "relu", kerascpp::input_shape{16}),
                             layers::Dense<double>(1, "sigmoid")};
    model.set_seed(21);
    model.compile("adam", "binary_crossentropy",
                  {"auc", "precision", "recall", "f1_score", "binary_accuracy", "mae",
                   metrics::AUC<double>(200, "PR", "interpolation", "pr_auc")});
    return model;
  };
  const auto compare = [](const Logs& one, const Logs& two) {
    REQUIRE(one.size() == two.size());
    for (const auto& [key, v] : one) {
      INFO(key << ": one thread " << v << ", two threads " << two.at(key));
      CHECK(two.at(key) == Approx(v).epsilon(1e-9).margin(1e-12));
    }
  };
  // The same model evaluated with each batch whole and split: the same outputs, the same counts.
  Sequential<double> model = make_model();
  model.fit(inputs, y, {.batch_size = 256, .epochs = 20, .verbose = 0, .sample_weight = w});
  const auto evaluate = [&](int threads) {
    ThreadsGuard guard(threads);
    return model.evaluate(inputs, y, {.batch_size = 256, .sample_weight = w});
  };
  const Logs one = evaluate(1);
  REQUIRE(model.trainer().workers().most_threads() == 1);
  const Logs two = evaluate(2);
  REQUIRE(model.trainer().workers().most_threads() == 2);  // the batches were split
  compare(one, two);
  CHECK(one.at("auc") > 0.9);  // the model learned something: the metrics are not trivial

  // Training on one and on two threads: the same History to rounding, metrics included.
  const auto fit = [&](int threads) {
    ThreadsGuard guard(threads);
    Sequential<double> m = make_model();
    const auto history = m.fit(inputs, y, {.batch_size = 256, .epochs = 2, .verbose = 0, .sample_weight = w});
    REQUIRE(m.trainer().workers().most_threads() == threads);
    Logs last;
    for (const auto& [key, values] : history.history) last[key] = values.back();
    return last;
  };
  compare(fit(1), fit(2));
}

TEST_CASE("Bad metric arguments throw ValueError saying what, what was expected and what was received",
          "[classification_metrics][errors]") {
  CHECK_THAT(thrown_message([] { metrics::AUC<float>(1); }),
             Contains("AUC: num_thresholds must be an integer > 1, received num_thresholds=1"));
  CHECK_THAT(thrown_message([] { metrics::AUC<float>(200, "ROCC"); }),
             Contains("AUC: curve must be \"ROC\" or \"PR\", received curve=\"ROCC\""));
  CHECK_THAT(thrown_message([] { metrics::AUC<float>(200, "ROC", "trapezoid"); }),
             Contains("summation_method must be \"interpolation\", \"minoring\" or \"majoring\", "
                      "received summation_method=\"trapezoid\""));
  CHECK_THAT(thrown_message([] { metrics::AUC<float>(200, "ROC", "interpolation", "auc", {0.2, 1.5}); }),
             Contains("AUC: thresholds must be in [0, 1], received thresholds[1]=1.5"));
  CHECK_THAT(thrown_message([] { metrics::Precision<float>(1.5); }),
             Contains("Precision: thresholds must be in [0, 1], received thresholds=1.5"));
  CHECK_THAT(thrown_message([] { metrics::Recall<float>(-0.1); }),
             Contains("Recall: thresholds must be in [0, 1], received thresholds=-0.1"));
  CHECK_THAT(thrown_message([] { metrics::Recall<float>(0.5, -2); }),
             Contains("Recall: class_id must be -1 (every output) or a column index, received class_id=-2"));
  CHECK_THAT(thrown_message([] { metrics::FBetaScore<float>("macro", 0.0); }),
             Contains("FBetaScore: beta must be > 0, received beta=0"));
  CHECK_THAT(thrown_message([] { metrics::F1Score<float>("samples"); }),
             Contains("F1Score: average must be unset (std::nullopt), \"micro\", \"macro\" or \"weighted\", "
                      "received average=\"samples\""));
  CHECK_THAT(thrown_message([] { metrics::F1Score<float>(std::nullopt, 0.0); }),
             Contains("F1Score: threshold must satisfy 0 < threshold <= 1"));
  CHECK_THAT(thrown_message([] { metrics::F1Score<float>(std::nullopt, 1.5); }), Contains("received threshold=1.5"));

  // What depends on the data is checked when fit or evaluate first sees it.
  const RowMatrix<float> outputs = multi_outputs<float>().topRows(40);
  const RowMatrix<float> onehot = multi_onehot<float>().topRows(40);
  Sequential<float> model = identity_model<float>(3);
  model.compile("sgd", "categorical_crossentropy", {metrics::Precision<float>(0.5, 3)});
  CHECK_THAT(thrown_message([&] { model.evaluate(outputs, onehot); }),
             StartsWith("evaluate: Precision: class_id must be in [0, 3) for outputs of 3 column(s), or -1 for all "
                      "of them; received class_id=3"));
  RowMatrix<float> sparse(40, 1);
  for (Index i = 0; i < 40; ++i) sparse(i, 0) = static_cast<float>(reference("multi_y")[static_cast<std::size_t>(i)]);
  model.compile("sgd", "sparse_categorical_crossentropy", {"f1_score"});
  CHECK_THAT(thrown_message([&] { model.fit(outputs, sparse, {.verbose = 0}); }),
             StartsWith("fit: F1Score: y has 1 column(s) but the model output has 3"));
  // The model stays usable with metrics that fit.
  model.compile("sgd", "sparse_categorical_crossentropy", {"accuracy"});
  CHECK_NOTHROW(model.evaluate(outputs, sparse));
}

TEST_CASE("confusion_matrix and classification_report equal scikit-learn's, text included",
          "[classification_metrics][report]") {
  const std::vector<Index> y = labels("multi_y");
  const RowMatrix<double> outputs = multi_outputs<double>();
  const std::vector<Index> predicted = kerascpp::predicted_classes(outputs);
  const ConfusionMatrix m = kerascpp::confusion_matrix(y, predicted);
  const auto& expected = reference("confusion_multi");
  REQUIRE(m.rows() == 3);
  REQUIRE(m.cols() == 3);
  for (Index i = 0; i < 9; ++i) CHECK(m.data()[i] == static_cast<Index>(expected[static_cast<std::size_t>(i)]));

  const kerascpp::ClassificationReport report =
      kerascpp::classification_report(y, predicted, 3, {"setosa", "versicolor", "virginica"});
  CHECK(report.text() == read_text("report_multi.txt"));
  CHECK(kerascpp::classification_report(y, predicted, 0, {}, 4).text() == read_text("report_multi_4.txt"));
  CHECK(report.classes[1].support == 87);
  CHECK(report.accuracy == Approx(214.0 / 300.0).margin(1e-15));
  CHECK(report.macro_avg.f1_score == Approx(value("f1_macro")).margin(1e-12));
  CHECK(report.weighted_avg.f1_score == Approx(value("f1_weighted")).margin(1e-12));
  std::ostringstream printed;
  printed << report;
  CHECK(printed.str() == report.text());

  // Through a model: softmax-like outputs with sparse labels or one-hot targets.
  Sequential<double> model = identity_model<double>(3);
  RowMatrix<double> sparse(static_cast<Index>(y.size()), 1);
  for (std::size_t i = 0; i < y.size(); ++i) sparse(static_cast<Index>(i), 0) = static_cast<double>(y[i]);
  CHECK((kerascpp::confusion_matrix(model, outputs, sparse) == m));
  CHECK((kerascpp::confusion_matrix(model, outputs, multi_onehot<double>()) == m));
  CHECK(kerascpp::classification_report(model, outputs, sparse, {"setosa", "versicolor", "virginica"}).text() ==
        read_text("report_multi.txt"));

  // A binary model (one sigmoid column): class 1 where ŷ > 0.5.
  Sequential<float> binary = identity_model<float>(1);
  const RowMatrix<float> p = column<float>(reference("binary_p"));
  const RowMatrix<float> yb = column<float>(reference("binary_y"));
  const ConfusionMatrix mb = kerascpp::confusion_matrix(binary, p, yb);
  REQUIRE(mb.rows() == 2);
  const auto& expected_b = reference("confusion_binary");
  for (Index i = 0; i < 4; ++i) CHECK(mb.data()[i] == static_cast<Index>(expected_b[static_cast<std::size_t>(i)]));
  CHECK(kerascpp::classification_report(binary, p, yb, {"bad", "good"}).text() == read_text("report_binary.txt"));

  CHECK_THAT(thrown_message([&] { kerascpp::classification_report(y, predicted, 3, {"a", "b"}); }),
             Contains("classification_report: target_names has 2 names but there are 3 classes"));
  RowMatrix<float> bad = yb;
  bad(5, 0) = 0.5f;
  CHECK_THAT(thrown_message([&] { kerascpp::confusion_matrix(binary, p, bad); }),
             Contains("confusion_matrix: y must hold class indices, integers in [0, 2), received 0.5 at row 5"));
  CHECK_THAT(thrown_message([&] { kerascpp::confusion_matrix(model, outputs, RowMatrix<double>::Zero(300, 2)); }),
             Contains("confusion_matrix: y has 2 columns; expected 1 (class indices) or 3"));
}

TEST_CASE("AUC refuses more thresholds than its documented limit instead of hanging",
          "[classification_metrics][errors]") {
  CHECK_THAT(thrown_message([] { metrics::AUC<float>(1 << 30); }),
             Contains("AUC: num_thresholds must be at most 1000000 (the state and the time per batch grow with it), "
                      "received num_thresholds=1073741824"));
  CHECK_THAT(thrown_message([] { (void)metrics::AUC<float>(std::numeric_limits<int>::max()); }),
             Contains("received num_thresholds=2147483647"));
  CHECK_THAT(thrown_message([] {
               metrics::AUC<float>(200, "ROC", "interpolation", "auc", std::vector<double>(999'999, 0.5));
             }),
             Contains("AUC: at most 999998 thresholds may be given") && Contains("received 999999"));
  CHECK(metrics::AUC<float>(static_cast<int>(metrics::max_auc_thresholds)).num_thresholds() == 1'000'000);
}

TEST_CASE("confusion_matrix refuses class counts whose matrix cannot be held, without overflow",
          "[classification_metrics][report][errors]") {
  const Index largest = std::numeric_limits<Index>::max();
  CHECK_THAT(thrown_message([&] { kerascpp::confusion_matrix(std::vector<Index>{largest}, std::vector<Index>{0}); }),
             Contains("confusion_matrix: at most 16384 classes (268435456 cells) fit in a confusion matrix, "
                      "received classes=0 with largest label 9223372036854775807, which needs"));
  CHECK_THAT(thrown_message([] { kerascpp::confusion_matrix(std::vector<Index>{1000000}, std::vector<Index>{0}); }),
             Contains("received classes=0 with largest label 1000000, which needs 1000001 × 1000001 = "));
  CHECK_THAT(thrown_message([] {
               kerascpp::confusion_matrix(std::vector<Index>{0}, std::vector<Index>{0}, Index(1) << 40);
             }),
             Contains("received classes=1099511627776 with largest label 0"));
  CHECK_THAT(thrown_message([] {
               kerascpp::classification_report(std::vector<Index>{0}, std::vector<Index>{0}, 100000);
             }),
             Contains("confusion_matrix: at most 16384 classes") && Contains("received classes=100000"));
  CHECK_THAT(thrown_message([] { kerascpp::confusion_matrix(std::vector<Index>{}, std::vector<Index>{}, -3); }),
             Contains("confusion_matrix: classes must be non-negative (0: the largest label + 1), received classes=-3"));
  CHECK_THAT(thrown_message([] { kerascpp::confusion_matrix(std::vector<Index>{5}, std::vector<Index>{0}, 3); }),
             Contains("confusion_matrix: classes=3 but the labels hold class 5"));
  CHECK(kerascpp::confusion_matrix(std::vector<Index>{1000}, std::vector<Index>{0}).rows() == 1001);
}

TEST_CASE("confusion_matrix of a model refuses one-hot rows with NaN or without a positive entry",
          "[classification_metrics][report][errors]") {
  Sequential<double> model = identity_model<double>(3);
  RowMatrix<double> x = RowMatrix<double>::Identity(3, 3);
  RowMatrix<double> y = RowMatrix<double>::Identity(3, 3);
  CHECK(kerascpp::confusion_matrix(model, x, y).trace() == 3);
  y(1, 2) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THAT(thrown_message([&] { kerascpp::confusion_matrix(model, x, y); }),
             Contains("confusion_matrix: y must hold one-hot rows, received nan at row 1, column 2"));
  y = RowMatrix<double>::Identity(3, 3);
  y(2, 2) = 0.0;
  CHECK_THAT(thrown_message([&] { kerascpp::classification_report(model, x, y); }),
             Contains("classification_report: y must hold one-hot rows (a positive entry for the class), received "
                      "row 2 whose largest entry is 0"));
}

TEST_CASE("classification_report refuses empty labels and digits outside 0 to 17",
          "[classification_metrics][report][errors]") {
  CHECK_THAT(thrown_message([] { kerascpp::classification_report(std::vector<Index>{}, std::vector<Index>{}); }),
             Contains("classification_report: no labels: y_true and y_pred are empty; expected at least one sample"));
  const std::vector<Index> y{0, 1, 1};
  CHECK_THAT(thrown_message([&] { kerascpp::classification_report(y, y, 0, {}, std::numeric_limits<int>::max()); }),
             Contains("classification_report: digits must be in [0, 17], received digits=2147483647"));
  CHECK_THAT(thrown_message([&] { kerascpp::classification_report(y, y, 0, {}, -1); }),
             Contains("received digits=-1"));
  CHECK(kerascpp::classification_report(y, y, 0, {}, 17).text().find("1.00000000000000000") != std::string::npos);
}

}  // namespace test_classification_metrics
