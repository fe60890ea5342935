// kerascpp/progress.hpp — the Keras progress bar as a callback writing to any std::ostream:
//   Epoch 3/10
//   5/5 [==============================] - 0s 21ms/step - loss: 0.1181 - val_loss: 0.1173
// verbose=1 redraws one line per batch on a terminal and prints the final line only elsewhere;
// verbose=2 prints one line per epoch: "5/5 - 0s - loss: ... - 12ms/epoch - 2ms/step".
#pragma once

#include <kerascpp/callbacks.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>

namespace kerascpp::callbacks {

namespace detail_progress {

/// " - key: value" for each log, loss first, then metrics, validation values, learning rate.
inline std::string format_logs(const Logs& logs) {
  std::vector<std::string> order;
  const auto add_if = [&](auto pred) {
    for (const auto& entry : logs)
      if (pred(entry.first) && std::find(order.begin(), order.end(), entry.first) == order.end())
        order.push_back(entry.first);
  };
  const auto is_val = [](const std::string& k) { return k.rfind("val_", 0) == 0; };
  add_if([](const std::string& k) { return k == "loss"; });
  add_if([&](const std::string& k) { return !is_val(k) && k != "learning_rate"; });
  add_if([](const std::string& k) { return k == "val_loss"; });
  add_if([&](const std::string& k) { return is_val(k); });
  add_if([](const std::string&) { return true; });
  std::string out;
  char buf[64];
  for (const auto& key : order) {
    const double v = logs.at(key);
    std::snprintf(buf, sizeof buf, std::abs(v) > 1e-3 ? "%.4f" : "%.4e", v);
    out += " - " + key + ": " + buf;
  }
  return out;
}

/// Time per step as Keras prints it: "21ms/step", "350us/step" or "2s/step".
inline std::string per_unit(double seconds, const char* unit) {
  char buf[64];
  if (seconds >= 1.0) std::snprintf(buf, sizeof buf, "%.0fs/%s", seconds, unit);
  else if (seconds >= 1e-3) std::snprintf(buf, sizeof buf, "%.0fms/%s", seconds * 1e3, unit);
  else std::snprintf(buf, sizeof buf, "%.0fus/%s", seconds * 1e6, unit);
  return buf;
}

}  // namespace detail_progress

template <typename Scalar = float>
class ProgbarLogger : public Callback<Scalar> {
 public:
  ProgbarLogger(int verbose, int epochs, Index steps, std::ostream& out, bool interactive)
      : ProgbarLogger(verbose, epochs, steps, &out, interactive) {}
  /// As above; a null `out` with verbose > 0 is a ValueError.
  ProgbarLogger(int verbose, int epochs, Index steps, std::ostream* out, bool interactive)
      : verbose_(verbose), epochs_(epochs), steps_(steps), out_(out), interactive_(interactive) {
    require_stream(out, verbose, "ProgbarLogger");
  }

  bool chief_only() const override { return true; }

  void on_epoch_begin(int epoch, Logs&) override {
    start_ = Clock::now();
    if (verbose_ != 1 && verbose_ != 2) return;
    if (epochs_ > 1) *out_ << "Epoch " << epoch + 1 << "/" << epochs_ << "\n";
    out_->flush();
  }

  void on_batch_end(int batch, Logs& logs) override {
    if (verbose_ != 1 || !interactive_) return;
    const Index done = batch + 1;
    const double elapsed = seconds_since_start();
    const double eta = elapsed / static_cast<double>(done) * static_cast<double>(steps_ - done);
    *out_ << "\r" << counter(done) << " " << bar(done, false) << " - ETA: " << static_cast<long>(std::lround(eta)) << "s"
          << detail_progress::format_logs(logs) << "\x1b[K";
    out_->flush();
  }

  void on_epoch_end(int, Logs& logs) override {
    if (verbose_ != 1 && verbose_ != 2) return;
    const double elapsed = seconds_since_start();
    const double per_step = elapsed / static_cast<double>(std::max<Index>(steps_, 1));
    const long whole = std::lround(elapsed);
    if (verbose_ == 1) {
      if (interactive_) *out_ << "\r";
      *out_ << counter(steps_) << " " << bar(steps_, true) << " - " << whole << "s "
            << detail_progress::per_unit(per_step, "step") << detail_progress::format_logs(logs);
      if (interactive_) *out_ << "\x1b[K";
      *out_ << "\n";
    } else if (verbose_ == 2) {
      *out_ << counter(steps_) << " - " << whole << "s" << detail_progress::format_logs(logs) << " - "
            << detail_progress::per_unit(elapsed, "epoch") << " - " << detail_progress::per_unit(per_step, "step")
            << "\n";
    }
    out_->flush();
  }

 private:
  using Clock = std::chrono::steady_clock;

  double seconds_since_start() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  std::string counter(Index done) const {
    const std::string total = std::to_string(steps_);
    std::string d = std::to_string(done);
    return std::string(total.size() > d.size() ? total.size() - d.size() : 0, ' ') + d + "/" + total;
  }

  std::string bar(Index done, bool finished) const {
    constexpr Index width = 30;
    const Index filled = steps_ > 0 ? width * done / steps_ : width;
    std::string s = "[";
    if (finished || filled >= width) {
      s += std::string(width, '=');
    } else {
      s += std::string(static_cast<std::size_t>(std::max<Index>(filled - 1, 0)), '=');
      s += filled > 0 ? ">" : "";
      s += std::string(static_cast<std::size_t>(width - std::max<Index>(filled, 0)), '.');
    }
    return s + "]";
  }

  int verbose_;
  int epochs_;
  Index steps_;
  std::ostream* out_;
  bool interactive_;
  Clock::time_point start_{};
};

}  // namespace kerascpp::callbacks
