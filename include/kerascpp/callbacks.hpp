// kerascpp/callbacks.hpp — the Callback interface and the callbacks kerascpp ships: History,
// EarlyStopping, ReduceLROnPlateau, LearningRateScheduler, TerminateOnNaN, CSVLogger and
// LambdaCallback. Hooks receive Keras's 0-based epoch and batch indices and a logs map.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/io.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kerascpp {

template <typename Scalar>
class ModelInterface;

/// What a callback may see and change of the model being trained.
template <typename Scalar = float>
class ModelInterface {
 public:
  virtual ~ModelInterface() = default;
  /// Weights in Keras order (each layer's kernel, bias; gamma, beta, moving_mean, moving_variance).
  virtual std::vector<Matrix<Scalar>> get_weights() = 0;
  virtual void set_weights(const std::vector<Matrix<Scalar>>& weights) = 0;
  virtual double learning_rate() const = 0;
  virtual void set_learning_rate(double lr) = 0;
  /// The name of the optimizer's learning-rate schedule (e.g. "ExponentialDecay"), empty when its
  /// learning rate is a number; a scheduled rate cannot be set.
  virtual std::string learning_rate_schedule() const { return {}; }

  /// Saves the whole model to `path` (the model must be a Sequential). The saving code is
  /// <kerascpp/saving/model_file.hpp>'s; a program that calls this without including it (or
  /// <kerascpp/kerascpp.hpp>) does not compile, with a message naming the header.
  void save(const std::filesystem::path& path) { save_through(*this, path, false); }
  /// Saves the weights alone to `path`, like `save`.
  void save_weights(const std::filesystem::path& path) { save_through(*this, path, true); }

  /// Set by a callback to end training after the current batch or epoch.
  bool stop_training = false;

 private:
  // Found by argument-dependent lookup where save is instantiated, so that this header need not
  // include the saving code.
  template <typename Model>
  static void save_through(Model& model, const std::filesystem::path& path, bool weights_only) {
    if constexpr (requires { save_model_interface(model, path, weights_only); })
      save_model_interface(model, path, weights_only);
    else
      static_assert(sizeof(Model) == 0,
                    "ModelInterface::save needs <kerascpp/saving/model_file.hpp>: include it (or <kerascpp/kerascpp.hpp>)");
  }
};

namespace detail {
template <typename Scalar>
struct CallbackClaim;
}

template <typename Scalar = float>
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void set_model(ModelInterface<Scalar>* model) { model_ = model; }
  ModelInterface<Scalar>* model() const { return model_; }

  virtual void on_train_begin(Logs&) {}
  virtual void on_train_end(Logs&) {}
  virtual void on_epoch_begin(int /*epoch*/, Logs&) {}
  virtual void on_epoch_end(int /*epoch*/, Logs&) {}
  virtual void on_batch_begin(int /*batch*/, Logs&) {}
  virtual void on_batch_end(int /*batch*/, Logs&) {}

  /// Whether, when several processes train the model together, only process 0 runs this callback
  /// (it writes files or prints); the others' callbacks see the same logs and so decide alike.
  virtual bool chief_only() const { return false; }

 protected:
  ModelInterface<Scalar>* model_ = nullptr;

  ModelInterface<Scalar>& require_model(const char* who) const {
    if (model_ == nullptr) throw StateError(detail::cat(who, ": the callback is not attached to a model"));
    return *model_;
  }

 private:
  friend struct detail::CallbackClaim<Scalar>;
  const void* running_fit_ = nullptr;  // the fit that calls this callback now, if any
};

namespace detail {
/// Marks the callbacks of one running fit as taken, so that the same object cannot serve two fits
/// at once (a fit started from a callback with the outer fit's EarlyStopping, say) or twice in
/// one fit, and releases them when the fit ends, also when it ends with an exception. Releasing
/// detaches them from the model, as Keras does after training.
template <typename Scalar>
struct CallbackClaim {
  std::vector<Callback<Scalar>*> taken;
  const void* fit;

  explicit CallbackClaim(const void* running_fit) : fit(running_fit) {}
  CallbackClaim(const CallbackClaim&) = delete;
  CallbackClaim& operator=(const CallbackClaim&) = delete;

  /// Takes `cb`, listed at `position` of fit's callbacks (negative: a callback fit adds itself).
  void take(Callback<Scalar>* cb, std::ptrdiff_t position) {
    if (cb == nullptr) detail::fail("fit: callbacks[", position, "] is a null pointer");
    if (cb->running_fit_ == fit)
      detail::fail("fit: callbacks[", position, "] is the same object as an earlier entry of callbacks; ",
                   "each callback can be listed once");
    if (cb->running_fit_ != nullptr)
      throw StateError(detail::cat("fit: callbacks[", position, "] is in use by another fit that is still running ",
                                   "(a fit started from a callback, or in another thread, needs callback objects of ",
                                   "its own)"));
    cb->running_fit_ = fit;
    taken.push_back(cb);
  }

  ~CallbackClaim() {
    for (auto* cb : taken) {
      cb->running_fit_ = nullptr;
      try {
        cb->set_model(nullptr);
      } catch (...) {  // a user's set_model that throws must not end the program while another exception unwinds
      }
    }
  }
};
}  // namespace detail

/// Per-epoch values of every log key; `fit` always records one and returns it.
template <typename Scalar = float>
class History : public Callback<Scalar> {
 public:
  std::map<std::string, std::vector<double>> history;
  std::vector<int> epoch;

  void on_train_begin(Logs&) override {}
  void on_epoch_end(int e, Logs& logs) override {
    epoch.push_back(e);
    for (const auto& [key, value] : logs) history[key].push_back(value);
  }

  bool has(const std::string& key) const { return history.count(key) != 0; }
  const std::vector<double>& at(const std::string& key) const {
    auto it = history.find(key);
    if (it == history.end() && history.empty())
      detail::fail("History: no key '", key, "'; the History is empty (no epoch ran: epochs <= initial_epoch, or no fit yet)");
    if (it == history.end()) detail::fail("History: no key '", key, "'; present keys are: ", detail::joined_keys(history));
    return it->second;
  }
  std::vector<std::string> keys() const {
    std::vector<std::string> k;
    for (const auto& entry : history) k.push_back(entry.first);
    return k;
  }
  double min(const std::string& key) const { return extreme(key, true); }
  double max(const std::string& key) const { return extreme(key, false); }
  /// 0-based epoch at which `key` was lowest (first one on ties).
  std::size_t argmin(const std::string& key) const { return arg_extreme(key, true); }
  std::size_t argmax(const std::string& key) const { return arg_extreme(key, false); }
  std::size_t epochs() const { return epoch.size(); }

 private:
  std::size_t arg_extreme(const std::string& key, bool lowest) const {
    const auto& v = at(key);
    if (v.empty()) detail::fail("History: key '", key, "' has no values");
    // NaN epochs are skipped, as pandas' min and idxmin skip them.
    std::size_t best = v.size();
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!std::isnan(v[i]) && (best == v.size() || (lowest ? v[i] < v[best] : v[i] > v[best]))) best = i;
    if (best == v.size()) detail::fail("History: key '", key, "' has only NaN values (", v.size(), " epochs)");
    return best;
  }
  double extreme(const std::string& key, bool lowest) const { return at(key)[arg_extreme(key, lowest)]; }
};

namespace callbacks {

enum class Mode { auto_, min, max };

inline Mode parse_mode(std::string_view mode, const char* who) {
  if (mode == "auto") return Mode::auto_;
  if (mode == "min") return Mode::min;
  if (mode == "max") return Mode::max;
  detail::fail(who, ": mode must be 'auto', 'min' or 'max', received mode='", mode, "'");
}

/// "auto" picks max for the names of metrics that grow as the model improves (…acc, …accuracy,
/// …auc, …precision, …recall, …f1_score, …fbeta_score, and a class's …f1_score_<k>, the metrics
/// whose direction Keras 3 declares "up") and min otherwise.
inline bool resolve_max(Mode mode, const std::string& monitor) {
  if (mode != Mode::auto_) return mode == Mode::max;
  std::string_view name = monitor;
  const auto ends = [&](std::string_view s) {
    return name.size() >= s.size() && name.substr(name.size() - s.size()) == s;
  };
  if (ends("acc") || ends("accuracy") || ends("auc") || ends("precision") || ends("recall")) return true;
  const std::size_t digits = name.find_last_not_of("0123456789");
  if (digits != std::string_view::npos && digits + 1 < name.size() && name[digits] == '_') name = name.substr(0, digits);
  return ends("f1_score") || ends("fbeta_score");
}

/// The rule of every callback that prints: with verbose > 0, `out` must point to a stream.
inline void require_stream(const std::ostream* out, int verbose, const char* who) {
  if (verbose > 0 && out == nullptr)
    detail::fail(who, ": out must point to a stream when verbose > 0, received a null pointer");
}

inline double monitored(const Logs& logs, const std::string& monitor, const char* who) {
  auto it = logs.find(monitor);
  if (it == logs.end()) {
    const bool needs_validation = monitor.starts_with("val_") && logs.count("val_loss") == 0;
    std::vector<std::string> keys;
    for (const auto& entry : logs) keys.push_back(entry.first);
    detail::fail(who, ": monitor ", detail::quote(monitor), " is not in the logs", detail::did_you_mean(monitor, keys),
                 "; available keys are: ", detail::join(keys),
                 needs_validation ? " (the val_ keys come from validation: pass validation_data or validation_split to fit)"
                                  : "");
  }
  return it->second;
}

/// Stops training when `monitor` has not improved by more than min_delta for `patience` epochs
/// (Keras 3 semantics). With restore_best_weights the best epoch's weights are restored at the end
/// of training, also when training ran every epoch.
template <typename Scalar = float>
class EarlyStopping : public Callback<Scalar> {
 public:
  struct Options {
    std::string monitor = "val_loss";
    double min_delta = 0.0;
    int patience = 0;
    int verbose = 0;
    std::string mode = "auto";
    std::optional<double> baseline{};
    bool restore_best_weights = false;
    int start_from_epoch = 0;
    std::ostream* out = &std::cout;
  };

  EarlyStopping() : EarlyStopping(Options{}) {}
  explicit EarlyStopping(Options o) : o_(std::move(o)), mode_(parse_mode(o_.mode, "EarlyStopping")) {
    if (o_.patience < 0) detail::fail("EarlyStopping: patience must be non-negative, received patience=", o_.patience);
    if (!std::isfinite(o_.min_delta)) detail::fail("EarlyStopping: min_delta must be finite, received ", o_.min_delta);
    if (o_.verbose < 0) detail::fail("EarlyStopping: verbose must be 0 or 1, received verbose=", o_.verbose);
    if (o_.baseline && !std::isfinite(*o_.baseline))
      detail::fail("EarlyStopping: baseline must be finite (or unset), received baseline=", *o_.baseline);
    if (o_.start_from_epoch < 0)
      detail::fail("EarlyStopping: start_from_epoch must be non-negative, received start_from_epoch=",
                   o_.start_from_epoch);
    require_stream(o_.out, o_.verbose, "EarlyStopping");
  }

  void on_train_begin(Logs&) override {
    wait_ = 0;
    stopped_epoch_ = 0;
    best_.reset();
    best_epoch_ = 0;
    best_weights_.clear();
    maximize_ = resolve_max(mode_, o_.monitor);
  }

  void on_epoch_end(int epoch, Logs& logs) override {
    const double current = monitored(logs, o_.monitor, "EarlyStopping");
    if (epoch < o_.start_from_epoch) return;
    auto& model = this->require_model("EarlyStopping");
    if (o_.restore_best_weights && best_weights_.empty()) best_weights_ = model.get_weights();
    ++wait_;
    if (improves(current, best_)) {
      best_ = current;
      best_epoch_ = epoch;
      if (o_.restore_best_weights) best_weights_ = model.get_weights();
      if (!o_.baseline || improves(current, o_.baseline)) wait_ = 0;
      return;
    }
    if (wait_ >= o_.patience && epoch > 0) {
      stopped_epoch_ = epoch;
      model.stop_training = true;
    }
  }

  void on_train_end(Logs&) override {
    if (stopped_epoch_ > 0 && o_.verbose > 0) *o_.out << "Epoch " << stopped_epoch_ + 1 << ": early stopping\n";
    if (o_.restore_best_weights && !best_weights_.empty()) {
      if (o_.verbose > 0)
        *o_.out << "Restoring model weights from the end of the best epoch: " << best_epoch_ + 1 << ".\n";
      this->require_model("EarlyStopping").set_weights(best_weights_);
    }
  }

  /// 0-based epoch at which training was stopped, or 0 when it ran every epoch.
  int stopped_epoch() const { return stopped_epoch_; }
  /// 0-based epoch of the best monitored value.
  int best_epoch() const { return best_epoch_; }
  std::optional<double> best() const { return best_; }
  int wait() const { return wait_; }
  const Options& options() const { return o_; }

 private:
  bool improves(double current, const std::optional<double>& reference) const {
    if (!reference) return true;
    const double delta = std::abs(o_.min_delta);
    return maximize_ ? current - delta > *reference : current + delta < *reference;
  }

  Options o_;
  Mode mode_;
  bool maximize_ = false;
  int wait_ = 0;
  int stopped_epoch_ = 0;
  int best_epoch_ = 0;
  std::optional<double> best_;
  std::vector<Matrix<Scalar>> best_weights_;
};

/// Multiplies the learning rate by `factor` when `monitor` has not improved for `patience` epochs.
template <typename Scalar = float>
class ReduceLROnPlateau : public Callback<Scalar> {
 public:
  struct Options {
    std::string monitor = "val_loss";
    double factor = 0.1;
    int patience = 10;
    int verbose = 0;
    std::string mode = "auto";
    double min_delta = 1e-4;
    int cooldown = 0;
    double min_lr = 0.0;
    std::ostream* out = &std::cout;
  };

  ReduceLROnPlateau() : ReduceLROnPlateau(Options{}) {}
  explicit ReduceLROnPlateau(Options o) : o_(std::move(o)), mode_(parse_mode(o_.mode, "ReduceLROnPlateau")) {
    if (!(o_.factor >= 0.0 && o_.factor < 1.0))
      detail::fail("ReduceLROnPlateau: factor must be in [0, 1), received factor=", o_.factor);
    if (o_.patience < 0) detail::fail("ReduceLROnPlateau: patience must be non-negative, received ", o_.patience);
    if (o_.verbose < 0) detail::fail("ReduceLROnPlateau: verbose must be 0 or 1, received verbose=", o_.verbose);
    if (!std::isfinite(o_.min_delta))
      detail::fail("ReduceLROnPlateau: min_delta must be finite, received min_delta=", o_.min_delta);
    if (o_.cooldown < 0)
      detail::fail("ReduceLROnPlateau: cooldown must be non-negative, received cooldown=", o_.cooldown);
    if (!(std::isfinite(o_.min_lr) && o_.min_lr >= 0.0))
      detail::fail("ReduceLROnPlateau: min_lr must be a finite non-negative number, received min_lr=", o_.min_lr);
    require_stream(o_.out, o_.verbose, "ReduceLROnPlateau");
  }

  void on_train_begin(Logs&) override {
    const std::string schedule = this->require_model("ReduceLROnPlateau").learning_rate_schedule();
    if (!schedule.empty())  // Keras raises at the first reduction; saying it before training loses no epochs
      throw StateError(detail::cat("ReduceLROnPlateau: the model's optimizer was created with a learning-rate schedule (",
                                   schedule, "), hence its learning rate is not settable; create the optimizer with a ",
                                   "number as learning_rate, or leave out ReduceLROnPlateau"));
    maximize_ = resolve_max(mode_, o_.monitor);
    best_ = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    wait_ = 0;
    cooldown_counter_ = 0;
  }

  void on_epoch_end(int epoch, Logs& logs) override {
    auto& model = this->require_model("ReduceLROnPlateau");
    logs["learning_rate"] = model.learning_rate();
    const double current = monitored(logs, o_.monitor, "ReduceLROnPlateau");
    if (cooldown_counter_ > 0) {
      --cooldown_counter_;
      wait_ = 0;
    }
    const bool better = maximize_ ? current > best_ + o_.min_delta : current < best_ - o_.min_delta;
    if (better) {
      best_ = current;
      wait_ = 0;
    } else if (cooldown_counter_ == 0) {
      ++wait_;
      if (wait_ >= o_.patience) {
        const double old_lr = model.learning_rate();
        if (old_lr > o_.min_lr) {
          const double new_lr = std::max(old_lr * o_.factor, o_.min_lr);
          model.set_learning_rate(new_lr);
          if (o_.verbose > 0)
            *o_.out << "Epoch " << epoch + 1 << ": ReduceLROnPlateau reducing learning rate to " << new_lr << ".\n";
          cooldown_counter_ = o_.cooldown;
          wait_ = 0;
        }
      }
    }
  }

 private:
  Options o_;
  Mode mode_;
  bool maximize_ = false;
  double best_ = 0.0;
  int wait_ = 0;
  int cooldown_counter_ = 0;
};

/// Sets the learning rate at the start of each epoch to schedule(epoch, current_lr).
template <typename Scalar = float>
class LearningRateScheduler : public Callback<Scalar> {
 public:
  explicit LearningRateScheduler(std::function<double(int, double)> schedule) : schedule_(std::move(schedule)) {
    if (!schedule_) detail::fail("LearningRateScheduler: schedule must be a callable, received an empty function");
  }
  void on_epoch_begin(int epoch, Logs&) override {
    auto& model = this->require_model("LearningRateScheduler");
    const double lr = schedule_(epoch, model.learning_rate());
    if (!std::isfinite(lr) || lr < 0.0)
      detail::fail("LearningRateScheduler: the schedule returned ", lr, " at epoch ", epoch,
                   "; expected a finite non-negative learning rate");
    model.set_learning_rate(lr);
  }
  void on_epoch_end(int, Logs& logs) override { logs["learning_rate"] = this->require_model("LearningRateScheduler").learning_rate(); }

 private:
  std::function<double(int, double)> schedule_;
};

/// Stops training as soon as a batch loss is NaN or infinite. It has no verbose argument: the
/// stream is its verbosity, and a null `out` prints nothing (message() still holds the text).
template <typename Scalar = float>
class TerminateOnNaN : public Callback<Scalar> {
 public:
  explicit TerminateOnNaN(std::ostream* out = &std::cout) : out_(out) {}
  void on_epoch_begin(int epoch, Logs&) override { epoch_ = epoch; }
  void on_batch_end(int batch, Logs& logs) override {
    auto it = logs.find("loss");
    if (it == logs.end() || std::isfinite(it->second)) return;
    message_ = detail::cat("Epoch ", epoch_ + 1, ", batch ", batch + 1, ": invalid loss ", it->second,
                           ", terminating training");
    if (out_ != nullptr) *out_ << message_ << "\n";
    terminated_ = true;
    this->require_model("TerminateOnNaN").stop_training = true;
  }
  bool terminated() const { return terminated_; }
  const std::string& message() const { return message_; }

 private:
  std::ostream* out_;
  int epoch_ = 0;
  bool terminated_ = false;
  std::string message_;
};

/// Writes each epoch's logs as a CSV row; the file is rewritten atomically after every epoch, so
/// it is never left half-written.
template <typename Scalar = float>
class CSVLogger : public Callback<Scalar> {
 public:
  explicit CSVLogger(std::filesystem::path filename, char separator = ',', bool append = false)
      : path_(std::move(filename)), separator_(separator), append_(append) {
    if (path_.empty()) detail::fail("CSVLogger: filename must not be empty; expected the path of the CSV file to write");
    io::check_path(path_, "CSVLogger");
    // read_csv refuses a NUL byte, so a NUL separator would write a log that cannot be read back
    if (separator_ == '\n' || separator_ == '\r' || separator_ == '"' || separator_ == '\0')
      detail::fail("CSVLogger: separator must not be a line break, a double quote or NUL, received separator=",
                   detail::quoted_char(separator_));
  }

  /// Checks the file can be written (its folder exists, it is not a folder) before training starts.
  void on_train_begin(Logs&) override {
    io::detail::checked_target(path_, "CSVLogger");
    text_.clear();
    keys_.clear();
    if (append_ && std::filesystem::exists(path_)) text_ = io::read_file(path_);
    header_written_ = !text_.empty();
  }
  void on_epoch_end(int epoch, Logs& logs) override {
    if (keys_.empty()) {
      for (const auto& entry : logs) keys_.push_back(entry.first);
      if (header_written_) check_header();
    }
    if (!header_written_) {
      text_ += "epoch";
      for (const auto& k : keys_) text_ += separator_ + k;
      text_ += "\n";
      header_written_ = true;
    }
    text_ += std::to_string(epoch);
    for (const auto& k : keys_) {
      auto it = logs.find(k);
      text_ += separator_;
      if (it != logs.end()) text_ += detail::cat(it->second);
    }
    text_ += "\n";
    io::write_file_atomically(path_, text_);
  }
  bool chief_only() const override { return true; }

 private:
  /// Throws unless the header of the file appended to names "epoch" and this fit's keys, in order.
  void check_header() const {
    std::string header = text_.substr(0, text_.find('\n'));
    if (!header.empty() && header.back() == '\r') header.pop_back();
    std::string expected = "epoch";
    for (const auto& k : keys_) expected += separator_ + k;
    if (header != expected)
      throw IOError(detail::cat("CSVLogger: cannot append to ", io::detail::quoted(path_), ": its header is '", header,
                                "' but this fit logs '", expected,
                                "'; append to a file of the same columns, or set append = false"));
  }

  std::filesystem::path path_;
  char separator_;
  bool append_;
  bool header_written_ = false;
  std::vector<std::string> keys_;
  std::string text_;
};

/// A callback made of functions; unset ones do nothing.
template <typename Scalar = float>
class LambdaCallback : public Callback<Scalar> {
 public:
  std::function<void(Logs&)> train_begin, train_end;
  std::function<void(int, Logs&)> epoch_begin, epoch_end, batch_begin, batch_end;

  void on_train_begin(Logs& l) override { if (train_begin) train_begin(l); }
  void on_train_end(Logs& l) override { if (train_end) train_end(l); }
  void on_epoch_begin(int e, Logs& l) override { if (epoch_begin) epoch_begin(e, l); }
  void on_epoch_end(int e, Logs& l) override { if (epoch_end) epoch_end(e, l); }
  void on_batch_begin(int b, Logs& l) override { if (batch_begin) batch_begin(b, l); }
  void on_batch_end(int b, Logs& l) override { if (batch_end) batch_end(b, l); }
};

}  // namespace callbacks
}  // namespace kerascpp
