// kerascpp/metrics.hpp — Keras metrics and their registry. Every metric keeps a state of sums over
// samples that the engine adds up over an epoch (metrics/metric.hpp): the means here (accuracies,
// mae, mse, rmse) keep {Σ w_i·m_i, Σ w_i} and report Σ w_i·m_i / Σ w_i (root_mean_squared_error the
// square root of it); AUC, Precision, Recall (metrics/confusion_metrics.hpp) and FBetaScore,
// F1Score (metrics/f_score_metrics.hpp) keep weighted confusion counts, as Keras does. Names
// resolve through the metric registry; a program adds its own metric in one line:
//   KERASCPP_REGISTER_METRIC(MeanBias, "mean_bias");   // MeanBias<Scalar> derives from Metric<Scalar>
#pragma once

#include <kerascpp/losses.hpp>
#include <kerascpp/metrics/confusion_metrics.hpp>
#include <kerascpp/metrics/f_score_metrics.hpp>
#include <kerascpp/metrics/metric.hpp>
#include <kerascpp/registry.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace kerascpp {

namespace metrics {

/// Fraction of outputs where (ŷ > threshold) equals y.
template <typename Scalar = float>
class BinaryAccuracy : public Metric<Scalar> {
 public:
  explicit BinaryAccuracy(std::string name = "binary_accuracy", double threshold = 0.5)
      : Metric<Scalar>(std::move(name)), threshold_(threshold) {}
  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<BinaryAccuracy>(*this); }
  double threshold() const { return threshold_; }
  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, Eigen::Ref<Vector<Scalar>> out) const override {
    const Scalar t = Scalar(threshold_);
    losses::detail::row_means(y, p, out.data(), [t](Scalar v, Scalar label) {
      return Scalar(v > t) == label ? Scalar(1) : Scalar(0);  // [(ŷ > threshold) = y]
    });
  }

 private:
  double threshold_;
};

/// 1 where argmax ŷ equals argmax y (one-hot targets).
template <typename Scalar = float>
class CategoricalAccuracy : public Metric<Scalar> {
 public:
  explicit CategoricalAccuracy(std::string name = "categorical_accuracy") : Metric<Scalar>(std::move(name)) {}
  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<CategoricalAccuracy>(*this); }
  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, Eigen::Ref<Vector<Scalar>> out) const override {
    const Index c = p.cols();
    for (Index i = 0; i < p.rows(); ++i)
      out(i) = detail::argmax(p.data() + i * c, c) == detail::argmax(y.data() + i * c, c) ? Scalar(1) : Scalar(0);
  }
};

/// 1 where argmax ŷ equals the class index held in y.
template <typename Scalar = float>
class SparseCategoricalAccuracy : public Metric<Scalar> {
 public:
  explicit SparseCategoricalAccuracy(std::string name = "sparse_categorical_accuracy")
      : Metric<Scalar>(std::move(name)) {}
  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<SparseCategoricalAccuracy>(*this); }
  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, Eigen::Ref<Vector<Scalar>> out) const override {
    const Index c = p.cols();
    for (Index i = 0; i < p.rows(); ++i)
      out(i) = static_cast<Scalar>(detail::argmax(p.data() + i * c, c)) == y.data()[i] ? Scalar(1) : Scalar(0);
  }
};

/// mean |ŷ − y|
template <typename Scalar = float>
class MeanAbsoluteError : public Metric<Scalar> {
 public:
  explicit MeanAbsoluteError(std::string name = "mean_absolute_error") : Metric<Scalar>(std::move(name)) {}
  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<MeanAbsoluteError>(*this); }
  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, Eigen::Ref<Vector<Scalar>> out) const override {
    losses::detail::mean_absolute_error(y, p, out.data());
  }
};

/// mean (ŷ − y)²
template <typename Scalar = float>
class MeanSquaredError : public Metric<Scalar> {
 public:
  explicit MeanSquaredError(std::string name = "mean_squared_error") : Metric<Scalar>(std::move(name)) {}
  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<MeanSquaredError>(*this); }
  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, Eigen::Ref<Vector<Scalar>> out) const override {
    losses::detail::mean_squared_error(y, p, out.data());
  }
};

/// sqrt of the weighted mean of (ŷ − y)² over the epoch
template <typename Scalar = float>
class RootMeanSquaredError : public MeanSquaredError<Scalar> {
 public:
  explicit RootMeanSquaredError(std::string name = "root_mean_squared_error")
      : MeanSquaredError<Scalar>(std::move(name)) {}
  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<RootMeanSquaredError>(*this); }
  double finalize(double mean) const override { return std::sqrt(mean); }
};

/// What the registry knows of one metric name, for one Scalar: how to make the metric, given the
/// name the user typed (its History key) and the widths of the targets and of the model's output;
/// and, for an entry whose metric objects are saved with their arguments, the class of those
/// objects, the object a config makes under a given name, and an object's config (Keras's
/// get_config, without the name). Entries that only resolve a name ("accuracy") leave these null.
template <typename Scalar>
struct MetricEntry {
  /// The names of the built-in metrics (registry() below adds them when first looked up): a
  /// program's own metric cannot take one, and is told so when it registers.
  static constexpr std::array<std::string_view, 16> builtin_names{
      "accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "mean_absolute_error",
      "mae", "mean_squared_error", "mse", "root_mean_squared_error", "rmse", "auc", "precision", "recall", "f1_score",
      "fbeta_score"};
  static constexpr std::string_view family = "metric";
  std::string name;
  const std::type_info* type;
  std::unique_ptr<Metric<Scalar>> (*make)(const std::string& typed, Index y_cols, Index out_cols);
  const std::type_info* object_type = nullptr;
  std::unique_ptr<Metric<Scalar>> (*from_config)(ConfigReader&, const std::string& name) = nullptr;
  Config (*get_config)(const Metric<Scalar>&) = nullptr;
};

template <typename Scalar>
Registry<MetricEntry<Scalar>>& registry();

}  // namespace metrics

namespace detail {
/// The entry of the metric class `M` (or, when `Codec` gives `make(typed, y_cols, out_cols)`, of
/// what it makes); `M` is constructed from the name the user typed. Objects of `M` are saved with
/// their config when `Codec` gives `from_config(ConfigReader&, name)` and `get_config(const M&)`,
/// or with an empty config when `Codec` is `M` itself and `M` takes no argument but its name.
template <typename M, typename Codec>
metrics::MetricEntry<typename M::scalar_type> metric_entry(std::string_view name) {
  using Scalar = typename M::scalar_type;
  const auto make = [](const std::string& typed, Index y_cols, Index out_cols) -> std::unique_ptr<Metric<Scalar>> {
    if constexpr (requires { Codec::make(typed, y_cols, out_cols); }) return Codec::make(typed, y_cols, out_cols);
    else return std::make_unique<M>(typed);
  };
  metrics::MetricEntry<Scalar> e{std::string(name), &typeid(Codec), make};
  if constexpr (requires(ConfigReader& c, const std::string& n, const M& m) {
                  Codec::from_config(c, n);
                  Codec::get_config(m);
                }) {
    e.object_type = &typeid(M);
    e.from_config = [](ConfigReader& c, const std::string& n) -> std::unique_ptr<Metric<Scalar>> {
      return Codec::from_config(c, n);
    };
    e.get_config = [](const Metric<Scalar>& m) -> Config { return Codec::get_config(static_cast<const M&>(m)); };
  } else if constexpr (std::is_same_v<M, Codec> && std::is_constructible_v<M, std::string>) {
    e.object_type = &typeid(M);
    e.from_config = [](ConfigReader&, const std::string& n) -> std::unique_ptr<Metric<Scalar>> {
      return std::make_unique<M>(n);
    };
    e.get_config = [](const Metric<Scalar>&) { return Config{}; };
  }
  return e;
}
}  // namespace detail

namespace metrics {

/// "accuracy" and "acc" become binary, sparse categorical or categorical accuracy from the shapes,
/// as Keras does (one output column: binary; one target column and several outputs: sparse
/// categorical; otherwise categorical), and keep the name the user typed.
template <typename Scalar = float>
struct AccuracyByShape {
  static std::unique_ptr<Metric<Scalar>> make(const std::string& typed, Index y_cols, Index out_cols) {
    if (out_cols == 1) return std::make_unique<BinaryAccuracy<Scalar>>(typed);
    if (y_cols == 1) return std::make_unique<SparseCategoricalAccuracy<Scalar>>(typed);
    return std::make_unique<CategoricalAccuracy<Scalar>>(typed);
  }
};

/// Makes the metric `M` with its default arguments under the name the user typed, for metrics
/// whose first constructor argument is not the name (AUC, Precision, Recall, F1Score).
template <typename M>
struct WithDefaults {
  static std::unique_ptr<Metric<typename M::scalar_type>> make(const std::string& typed, Index, Index) {
    auto m = std::make_unique<M>();
    m->set_name(typed);
    return m;
  }
};

/// The config of BinaryAccuracy: `threshold`.
template <typename Scalar = float>
struct BinaryAccuracyCodec {
  static std::unique_ptr<Metric<Scalar>> from_config(ConfigReader& c, const std::string& name) {
    return std::make_unique<BinaryAccuracy<Scalar>>(name, c.number("threshold"));
  }
  static Config get_config(const BinaryAccuracy<Scalar>& m) {
    return {{"threshold", kerascpp::detail::number(m.threshold())}};
  }
};

/// The config of AUC, with Keras's keys: `num_thresholds`, `curve` ("ROC" or "PR"),
/// `summation_method` and `thresholds` (the thresholds given to the constructor, comma-separated
/// and sorted; empty for num_thresholds evenly spaced ones).
template <typename Scalar = float>
struct AUCCodec : WithDefaults<AUC<Scalar>> {
  static std::unique_ptr<Metric<Scalar>> from_config(ConfigReader& c, const std::string& name) {
    const auto num_thresholds = static_cast<int>(c.integer("num_thresholds", 2, max_auc_thresholds));
    const std::string curve = c.text("curve");
    const std::string summation_method = c.text("summation_method");
    return std::make_unique<AUC<Scalar>>(num_thresholds, curve, summation_method, name, c.list<double>("thresholds"));
  }
  static Config get_config(const AUC<Scalar>& m) {
    std::vector<std::string> thresholds;
    for (const double t : m.specified_thresholds()) thresholds.push_back(kerascpp::detail::number(t));
    return {{"num_thresholds", std::to_string(m.num_thresholds())},
            {"curve", m.curve()},
            {"summation_method", m.summation_method()},
            {"thresholds", kerascpp::detail::join(thresholds, ",")}};
  }
};

/// The config of Precision and Recall (`Of<Scalar>`), with Keras's keys: `thresholds` (one number)
/// and `class_id` (-1 for every output).
template <template <typename> class M>
struct ConfusionCountsCodec {
  template <typename Scalar>
  struct Of : WithDefaults<M<Scalar>> {
    static std::unique_ptr<Metric<Scalar>> from_config(ConfigReader& c, const std::string& name) {
      const double thresholds = c.number("thresholds");
      const auto class_id = static_cast<Index>(c.integer("class_id", -1, std::numeric_limits<std::int32_t>::max()));
      return std::make_unique<M<Scalar>>(thresholds, class_id, name);
    }
    static Config get_config(const M<Scalar>& m) {
      return {{"thresholds", kerascpp::detail::number(m.thresholds())}, {"class_id", std::to_string(m.class_id())}};
    }
  };
};

/// The config of FBetaScore (`beta` = true) and F1Score, with Keras's keys: `average` ("micro",
/// "macro" or "weighted"; absent for Keras's None), `beta` (FBetaScore only) and `threshold`
/// (absent for Keras's None).
template <template <typename> class M, bool beta>
struct FScoreCodec {
  template <typename Scalar>
  struct Of : WithDefaults<M<Scalar>> {
    static std::unique_ptr<Metric<Scalar>> from_config(ConfigReader& c, const std::string& name) {
      std::optional<std::string> average = c.optional_text("average");
      if constexpr (beta) {
        const double b = c.number("beta");
        return std::make_unique<M<Scalar>>(std::move(average), b, c.optional_number("threshold"), name);
      } else {
        return std::make_unique<M<Scalar>>(std::move(average), c.optional_number("threshold"), name);
      }
    }
    static Config get_config(const M<Scalar>& m) {
      Config config;
      if (m.average()) config["average"] = *m.average();
      if constexpr (beta) config["beta"] = kerascpp::detail::number(m.beta());
      if (m.threshold()) config["threshold"] = kerascpp::detail::number(*m.threshold());
      return config;
    }
  };
};

}  // namespace metrics

/// Registers the metric class template `M` (constructible from its name; `Codec<Scalar>` may give
/// `make(typed, y_cols, out_cols)` instead) under `name` for float and double. Returns true, for an
/// inline variable.
template <template <typename> class M, template <typename> class Codec = M>
bool register_metric(std::string_view name) {
  return register_for_float_and_double<metrics::MetricEntry>(
      [name]<typename Scalar>() { return detail::metric_entry<M<Scalar>, Codec<Scalar>>(name); });
}

/// Registers a metric class of one Scalar type (not a template) under `name`.
template <typename M>
bool register_metric(std::string_view name) {
  registry_of<metrics::MetricEntry<typename M::scalar_type>>().add(detail::metric_entry<M, M>(name));
  return true;
}

namespace metrics {

/// The metric registry of Scalar, with the built-in metrics first.
template <typename Scalar>
Registry<MetricEntry<Scalar>>& registry() {
  using kerascpp::detail::metric_entry;
  return registry_with_builtins<MetricEntry<Scalar>>([] {
    return std::vector{
        metric_entry<BinaryAccuracy<Scalar>, AccuracyByShape<Scalar>>("accuracy"),
        metric_entry<BinaryAccuracy<Scalar>, AccuracyByShape<Scalar>>("acc"),
        metric_entry<BinaryAccuracy<Scalar>, BinaryAccuracyCodec<Scalar>>("binary_accuracy"),
        metric_entry<CategoricalAccuracy<Scalar>, CategoricalAccuracy<Scalar>>("categorical_accuracy"),
        metric_entry<SparseCategoricalAccuracy<Scalar>, SparseCategoricalAccuracy<Scalar>>("sparse_categorical_accuracy"),
        metric_entry<MeanAbsoluteError<Scalar>, MeanAbsoluteError<Scalar>>("mean_absolute_error"),
        metric_entry<MeanAbsoluteError<Scalar>, MeanAbsoluteError<Scalar>>("mae"),
        metric_entry<MeanSquaredError<Scalar>, MeanSquaredError<Scalar>>("mean_squared_error"),
        metric_entry<MeanSquaredError<Scalar>, MeanSquaredError<Scalar>>("mse"),
        metric_entry<RootMeanSquaredError<Scalar>, RootMeanSquaredError<Scalar>>("root_mean_squared_error"),
        metric_entry<RootMeanSquaredError<Scalar>, RootMeanSquaredError<Scalar>>("rmse"),
        metric_entry<AUC<Scalar>, AUCCodec<Scalar>>("auc"),
        metric_entry<Precision<Scalar>, typename ConfusionCountsCodec<Precision>::template Of<Scalar>>("precision"),
        metric_entry<Recall<Scalar>, typename ConfusionCountsCodec<Recall>::template Of<Scalar>>("recall"),
        metric_entry<F1Score<Scalar>, typename FScoreCodec<F1Score, false>::template Of<Scalar>>("f1_score"),
        metric_entry<FBetaScore<Scalar>, typename FScoreCodec<FBetaScore, true>::template Of<Scalar>>("fbeta_score")};
  });
}

/// The registry entry that saves the metric object `metric` with its config: the first entry whose
/// object class is `metric`'s class; nullptr when no entry saves objects of that class.
template <typename Scalar>
const MetricEntry<Scalar>* entry_of(const Metric<Scalar>& metric) {
  for (const auto& e : registry<Scalar>().entries())
    if (e.object_type != nullptr && *e.object_type == typeid(metric)) return &e;
  return nullptr;
}

/// Resolves a registered metric name; the metric keeps the name the user typed.
template <typename Scalar = float>
std::unique_ptr<Metric<Scalar>> get(std::string_view name, Index y_cols, Index out_cols) {
  return registry<Scalar>().at(name, "metric").make(std::string(name), y_cols, out_cols);
}

/// Throws for a name `get` would not resolve, before any data is seen (a name registered for float
/// or for double passes). A template only so that the registry is compiled where names are validated.
template <typename = void>
void validate(std::string_view name) {
  if (registry_of<MetricEntry<double>>().find(name) == nullptr) registry<float>().at(name, "metric");
}

}  // namespace metrics
}  // namespace kerascpp

/// Registers a metric class template (or a class of one Scalar type) under `name`, at namespace
/// scope: `KERASCPP_REGISTER_METRIC(MeanBias, "mean_bias");`.
#define KERASCPP_REGISTER_METRIC(M, name) \
  inline const bool kerascpp_metric_registered_##M = ::kerascpp::register_metric<M>(name)
