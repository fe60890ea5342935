// kerascpp/callbacks/model_checkpoint.hpp — ModelCheckpoint: saves the model (or its weights) at
// the end of every epoch, or only when a monitored value improves, to a path that may hold
// Keras-style placeholders such as "ckpt/model-{epoch:02d}-{val_loss:.4f}.kcpp". It saves through
// ModelInterface::save, whose saving code <kerascpp/saving/model_file.hpp> provides.
#pragma once

#include <kerascpp/callbacks.hpp>
#include <kerascpp/core.hpp>
#include <kerascpp/io.hpp>
#include <kerascpp/saving/model_file.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace kerascpp::callbacks {

namespace checkpoint_detail {

using kerascpp::detail::cat;

/// Python's `repr` of a float: the shortest digits that read back exactly, in fixed notation for
/// exponents from -4 to 15 and scientific notation otherwise ("0.25", "1.0", "1e-05", "1e+16").
inline std::string python_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::array<char, 64> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::scientific);
  std::string_view text(buffer.data(), static_cast<std::size_t>(result.ptr - buffer.data()));
  std::string out;
  if (!text.empty() && text.front() == '-') {
    out = "-";
    text.remove_prefix(1);
  }
  const std::size_t e = text.find('e');
  std::string digits;
  for (const char c : text.substr(0, e))
    if (c != '.') digits += c;
  int exponent = 0;
  const std::string_view exp_text = text.substr(e + 1);
  std::from_chars(exp_text.data() + (exp_text.front() == '+' ? 1 : 0), exp_text.data() + exp_text.size(), exponent);
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) return out + "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    const auto whole = static_cast<std::size_t>(exponent) + 1;
    if (digits.size() <= whole) return out + digits + std::string(whole - digits.size(), '0') + ".0";
    return out + digits.substr(0, whole) + "." + digits.substr(whole);
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  const int magnitude = exponent < 0 ? -exponent : exponent;
  return out + (exponent < 0 ? "e-" : "e+") + (magnitude < 10 ? "0" : "") + std::to_string(magnitude);
}

/// printf of one double with a format built from checked parts.
inline std::string printf_double(char conversion, int precision, double value) {
  const char format[] = {'%', '.', '*', conversion, '\0'};
  const int n = std::snprintf(nullptr, 0, format, precision, value);
  std::string out(static_cast<std::size_t>(n > 0 ? n : 0), '\0');
  std::snprintf(out.data(), out.size() + 1, format, precision, value);
  if (out == "-nan" || out == "-NAN") out.erase(0, 1);
  return out;
}

/// Formats one value with a Python format spec: [[fill]align][sign][0][width][.precision][type]
/// with type one of d, f, F, e, E, g, G, % (d for integers only) or none.
inline std::string format_field(std::string_view name, std::string_view spec, bool is_integer, long long integer,
                                double number) {
  const auto bad = [&](std::string_view why) -> std::string {
    detail::fail("ModelCheckpoint: cannot format {", name, ":", spec, "}: ", why,
                 "; supported specs are [[fill]align][sign][0][width][.precision][type] with type d, f, F, e, E, g, G or %");
  };
  std::size_t k = 0;
  char fill = ' ';
  char align = '\0';
  const auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (spec.size() >= 2 && is_align(spec[1])) {
    fill = spec[0];
    align = spec[1];
    k = 2;
  } else if (!spec.empty() && is_align(spec[0])) {
    align = spec[0];
    k = 1;
  }
  char sign = '-';
  if (k < spec.size() && (spec[k] == '+' || spec[k] == '-' || spec[k] == ' ')) sign = spec[k++];
  if (k < spec.size() && spec[k] == '0') {
    if (align == '\0') {
      fill = '0';
      align = '=';
    }
    ++k;
  }
  const auto read_int = [&](std::string_view what) {
    int value = 0;
    std::size_t digits = 0;
    while (k < spec.size() && spec[k] >= '0' && spec[k] <= '9') {
      value = value * 10 + (spec[k++] - '0');
      if (++digits > 3) bad(cat(what, " is larger than 999"));
    }
    return std::pair<int, std::size_t>(value, digits);
  };
  const int width = read_int("the width").first;
  std::optional<int> precision;
  if (k < spec.size() && spec[k] == '.') {
    ++k;
    const auto [value, digits] = read_int("the precision");
    if (digits == 0) bad("'.' must be followed by a precision");
    precision = value;
  }
  char type = '\0';
  if (k < spec.size()) type = spec[k++];
  if (k != spec.size()) bad(cat("unexpected text ", std::string(spec.substr(k))));
  if (type != '\0' && std::string_view("dfFeEgG%").find(type) == std::string_view::npos)
    bad(cat("unknown type '", std::string(1, type), "'"));

  std::string body;
  bool negative = false;
  if (type == 'd' || (type == '\0' && is_integer)) {
    if (!is_integer) bad(cat("type 'd' needs an integer but ", name, " is a float"));
    if (precision) bad("an integer takes no precision");
    negative = integer < 0;
    body = std::to_string(negative ? -integer : integer);
  } else {
    const double value = is_integer ? static_cast<double>(integer) : number;
    negative = std::signbit(value) && !std::isnan(value);
    const double magnitude = std::abs(value);
    if (type == '\0') {
      if (!precision) {
        body = python_repr(magnitude);
      } else {
        body = printf_double('g', std::max(*precision, 1), magnitude);
        if (std::isfinite(magnitude) && body.find_first_of(".e") == std::string::npos) body += ".0";
      }
    } else if (type == '%') {
      body = printf_double('f', precision.value_or(6), magnitude * 100.0) + "%";
    } else {
      body = printf_double(type, precision.value_or(6), magnitude);
    }
  }
  std::string prefix = negative ? "-" : (sign == '+' ? "+" : (sign == ' ' ? " " : ""));
  const std::size_t length = prefix.size() + body.size();
  if (static_cast<std::size_t>(width) <= length) return prefix + body;
  const std::size_t pad = static_cast<std::size_t>(width) - length;
  switch (align == '\0' ? '>' : align) {
    case '<': return prefix + body + std::string(pad, fill);
    case '^': return std::string(pad / 2, fill) + prefix + body + std::string(pad - pad / 2, fill);
    case '=': return prefix + std::string(pad, fill) + body;
    default: return std::string(pad, fill) + prefix + body;
  }
}

}  // namespace checkpoint_detail

/// Fills a checkpoint path's placeholders the way Keras's `filepath.format(epoch=epoch, **logs)`
/// does: `{epoch}` is the 1-based epoch, `{name}` any key of `logs` (`{val_loss}`, `{loss}`, ...),
/// each optionally with a Python format spec (`{epoch:02d}`, `{val_loss:.4f}`); `{{` and `}}`
/// stand for braces. Throws ValueError for an unknown name, listing the available ones, and for a
/// malformed pattern or spec.
inline std::string format_checkpoint_path(std::string_view pattern, int epoch, const Logs& logs) {
  using checkpoint_detail::cat;
  std::string out;
  std::size_t i = 0;
  while (i < pattern.size()) {
    const char c = pattern[i];
    if (c == '}') {
      if (i + 1 < pattern.size() && pattern[i + 1] == '}') {
        out += '}';
        i += 2;
        continue;
      }
      detail::fail("ModelCheckpoint: single '}' at position ", i, " of the file path '", pattern,
                   "'; write '}}' for a literal brace");
    }
    if (c != '{') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 < pattern.size() && pattern[i + 1] == '{') {
      out += '{';
      i += 2;
      continue;
    }
    const std::size_t close = pattern.find('}', i + 1);
    if (close == std::string_view::npos)
      detail::fail("ModelCheckpoint: '{' at position ", i, " of the file path '", pattern, "' is not closed by '}'");
    const std::string_view field = pattern.substr(i + 1, close - i - 1);
    const std::size_t colon = field.find(':');
    const std::string name(field.substr(0, colon));
    const std::string_view spec = colon == std::string_view::npos ? std::string_view() : field.substr(colon + 1);
    if (name == "epoch") {
      out += checkpoint_detail::format_field(name, spec, true, epoch, 0.0);
    } else if (const auto it = logs.find(name); it != logs.end()) {
      out += checkpoint_detail::format_field(name, spec, false, 0, it->second);
    } else {
      std::vector<std::string> keys{"epoch"};
      for (const auto& entry : logs) keys.push_back(entry.first);
      detail::fail("ModelCheckpoint: the file path '", pattern, "' names {", name, "}, which is neither 'epoch' nor a log key; ",
                   "available names are: ", detail::join(keys));
    }
    i = close + 1;
  }
  return out;
}

/// Saves the model at the end of each epoch (Keras `ModelCheckpoint`). `filepath` may hold
/// placeholders (see `format_checkpoint_path`); its folder is created when missing. With
/// `save_best_only` the model is saved only when `monitor` improves strictly on the best value so
/// far (the first epoch always does; NaN never does), the best being kept across `fit` calls as in
/// Keras. `mode` "auto" maximizes names ending in acc, accuracy or auc and minimizes the rest.
/// `save_weights_only` writes `save_weights` files instead of whole models. Arguments by name, as
/// EarlyStopping takes them: `ModelCheckpoint("best.kcpp", {.save_best_only = true})`.
template <typename Scalar = float>
class ModelCheckpoint : public Callback<Scalar> {
 public:
  struct Options {
    std::string monitor = "val_loss";
    int verbose = 0;
    bool save_best_only = false;
    bool save_weights_only = false;
    std::string mode = "auto";
    std::ostream* out = &std::cout;
  };

  explicit ModelCheckpoint(std::filesystem::path filepath, Options o)
      : filepath_(std::move(filepath)),
        monitor_(std::move(o.monitor)),
        verbose_(o.verbose),
        save_best_only_(o.save_best_only),
        save_weights_only_(o.save_weights_only),
        maximize_(resolve_max(parse_mode(o.mode, "ModelCheckpoint"), monitor_)),
        out_(o.out) {
    if (filepath_.empty()) detail::fail("ModelCheckpoint: filepath must not be empty");
    io::check_path(filepath_, "ModelCheckpoint");
    if (verbose_ < 0) detail::fail("ModelCheckpoint: verbose must be non-negative, received verbose=", verbose_);
    require_stream(out_, verbose_, "ModelCheckpoint");
    serialization::detail::check_not_keras_name(filepath_, "ModelCheckpoint");
  }

  /// Keras's positional order. `Monitor` is a template parameter so that a braced list of named
  /// arguments can only mean Options (g++ would otherwise build the monitor string from it).
  template <typename Monitor = const char*>
    requires std::convertible_to<Monitor, std::string>
  explicit ModelCheckpoint(std::filesystem::path filepath, Monitor monitor = "val_loss", int verbose = 0,
                           bool save_best_only = false, bool save_weights_only = false, std::string mode = "auto",
                           std::ostream* out = &std::cout)
      : ModelCheckpoint(std::move(filepath), Options{std::string(std::move(monitor)), verbose, save_best_only,
                                                     save_weights_only, std::move(mode), out}) {}

  bool chief_only() const override { return true; }

  void on_epoch_end(int epoch, Logs& logs) override {
    auto& model = this->require_model("ModelCheckpoint");
    std::optional<double> current;
    if (save_best_only_) current = monitored(logs, monitor_, "ModelCheckpoint");
    const std::filesystem::path path = format_checkpoint_path(filepath_.string(), epoch + 1, logs);
    if (save_best_only_) {
      const bool better = !std::isnan(*current) && (!best_ || (maximize_ ? *current > *best_ : *current < *best_));
      const std::string previous =
          best_ ? checkpoint_detail::printf_double('f', 5, *best_) : std::string(maximize_ ? "-inf" : "inf");
      if (!better) {
        if (verbose_ > 0) *out_ << "\nEpoch " << epoch + 1 << ": " << monitor_ << " did not improve from " << previous << "\n";
        return;
      }
      if (verbose_ > 0)
        *out_ << "\nEpoch " << epoch + 1 << ": " << monitor_ << " improved from " << previous << " to "
              << checkpoint_detail::printf_double('f', 5, *current) << ", saving model to " << path.string() << "\n";
      save(model, path);
      best_ = current;
      best_epoch_ = epoch;
      return;
    }
    if (verbose_ > 0) *out_ << "\nEpoch " << epoch + 1 << ": saving model to " << path.string() << "\n";
    save(model, path);
  }

  /// The best monitored value saved so far (save_best_only), or nullopt.
  std::optional<double> best() const { return best_; }
  /// 0-based epoch of the best value saved, or -1.
  int best_epoch() const { return best_epoch_; }
  /// Every path written, in order.
  const std::vector<std::filesystem::path>& saved_paths() const { return saved_; }

 private:
  void save(ModelInterface<Scalar>& model, const std::filesystem::path& path) {
    const std::filesystem::path folder = path.parent_path();
    if (!folder.empty()) {
      std::error_code error;
      std::filesystem::create_directories(folder, error);
      if (error)
        throw IOError(checkpoint_detail::cat("ModelCheckpoint: cannot create folder '", folder.string(), "' for ",
                                             path.string(), ": ", error.message()));
    }
    if (save_weights_only_) model.save_weights(path);
    else model.save(path);
    saved_.push_back(path);
  }

  std::filesystem::path filepath_;
  std::string monitor_;
  int verbose_;
  bool save_best_only_;
  bool save_weights_only_;
  bool maximize_;
  std::ostream* out_;
  std::optional<double> best_;
  int best_epoch_ = -1;
  std::vector<std::filesystem::path> saved_;
};

}  // namespace kerascpp::callbacks
