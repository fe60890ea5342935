// kerascpp/plot.hpp — learning curves as standalone SVG and training histories as CSV.
//
// The Kaggle course plots `history_df.loc[:, ['loss', 'val_loss']].plot()`; here
// `plot::save_learning_curves(history, "curves.svg")` draws the same thing with no dependency:
// one panel per metric family (`loss` with `val_loss`, `binary_accuracy` with
// `val_binary_accuracy`, ...), training in matplotlib's tab:blue and validation in tab:orange.
// The x axis counts epochs from 1, as Keras prints them during `fit` (pandas would show the
// 0-based row index instead).
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/io.hpp>
#include <kerascpp/plot/ticks.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace kerascpp::plot {

/// Per-epoch values by name, the type of `History::history`.
using HistoryMap = std::map<std::string, std::vector<double>>;

/// Any object with a public member `history` holding per-epoch values, such as `History`.
template <typename T>
concept HasHistory = requires(const T& owner) {
  { owner.history } -> std::convertible_to<const HistoryMap&>;
};

/// What `learning_curves_svg` draws and how large.
struct LearningCurvesOptions {
  /// Keys to draw; empty draws every key of the history. Each must be present in the history.
  std::vector<std::string> keys;
  /// Title above all panels; empty for none.
  std::string title;
  /// Width of one panel in pixels (at least 200).
  int panel_width = 460;
  /// Height of one panel in pixels (at least 150).
  int panel_height = 340;
  /// Panels per row before the next row starts; 1 stacks every panel.
  int columns = 2;
};

namespace detail {

/// A coordinate with at most two decimals and no trailing zeros, independent of the C locale.
inline std::string coordinate(double value) {
  if (std::abs(value) < 0.005) value = 0.0;
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, 2);
  std::string text(buffer, result.ptr);
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by XML entities.
inline std::string escape_xml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
inline std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

inline bool is_validation_key(std::string_view key) { return key.size() > 4 && key.substr(0, 4) == "val_"; }

/// The metric a key belongs to: `val_binary_accuracy` → `binary_accuracy`, `loss` → `loss`.
inline std::string family_of(std::string_view key) { return std::string(is_validation_key(key) ? key.substr(4) : key); }

/// Sorts metric names for display: the `loss` family first, then the other families by name, each
/// training key before its `val_` twin.
inline void sort_for_display(std::vector<std::string>& keys) {
  const auto before = [](std::string_view a, std::string_view b) {  // whether key a is shown before key b
    const std::string_view fa = is_validation_key(a) ? a.substr(4) : a;
    const std::string_view fb = is_validation_key(b) ? b.substr(4) : b;
    if ((fa == "loss") != (fb == "loss")) return fa == "loss";
    if (fa != fb) return fa < fb;
    return !is_validation_key(a) && is_validation_key(b);
  };
  // An insertion sort: a history holds a handful of keys, and this compiles to far less than std::sort.
  for (std::size_t i = 1; i < keys.size(); ++i)
    for (std::size_t j = i; j > 0 && before(keys[j], keys[j - 1]); --j) std::swap(keys[j], keys[j - 1]);
}

/// Approximate width in pixels of `text` in a sans-serif font of `font_size` pixels.
inline double text_width(std::string_view text, double font_size) {
  return static_cast<double>(text.size()) * 0.6 * font_size;
}

/// Whether the segment from a to b meets the rectangle [left, right] × [top, bottom]
/// (Liang–Barsky clipping).
inline bool segment_meets_box(double ax, double ay, double bx, double by, double left, double top, double right,
                              double bottom) {
  double t0 = 0.0;
  double t1 = 1.0;
  const double dx = bx - ax;
  const double dy = by - ay;
  const std::array<std::pair<double, double>, 4> edges{
      {{-dx, ax - left}, {dx, right - ax}, {-dy, ay - top}, {dy, bottom - ay}}};
  for (const auto& [p, q] : edges) {
    if (p == 0.0) {
      if (q < 0.0) return false;
      continue;
    }
    const double t = q / p;
    if (p < 0.0) {
      if (t > t1) return false;
      t0 = std::max(t0, t);
    } else {
      if (t < t0) return false;
      t1 = std::min(t1, t);
    }
  }
  return true;
}

/// One drawn series: its key, its values and its colour.
struct Series {
  std::string key;
  const std::vector<double>* values = nullptr;
  std::string colour;
};

/// One panel: a metric family and the series drawn in it.
struct Panel {
  std::string family;
  std::vector<Series> series;
};

/// Panel title in the style of the Keras guides: "Training and validation loss".
inline std::string panel_title(const Panel& panel) {
  bool training = false;
  bool validation = false;
  for (const auto& series : panel.series) {
    if (is_validation_key(series.key))
      validation = true;
    else
      training = true;
  }
  std::string name = panel.family;
  std::replace(name.begin(), name.end(), '_', ' ');
  const std::string_view prefix = training && validation ? "Training and validation "
                                  : validation           ? "Validation "
                                                         : "Training ";
  return kerascpp::detail::cat(prefix, name);
}

inline constexpr std::string_view training_colour = "#1f77b4";
inline constexpr std::string_view validation_colour = "#ff7f0e";
inline constexpr std::string_view text_colour = "#262626";
inline constexpr double tick_font = 11.0;
inline constexpr double label_font = 12.0;
inline constexpr double title_font = 14.0;
inline constexpr double figure_title_font = 16.0;
inline constexpr double figure_title_band = 36.0;

/// `font_size`, reduced so that `text` fits in `room` pixels (never below 7).
inline double fitted_font(std::string_view text, double font_size, double room) {
  const double needed = text_width(text, font_size);
  if (needed <= room || needed <= 0.0) return font_size;
  return std::max(7.0, std::floor(font_size * room / needed * 10.0) / 10.0);
}

/// Appends `<text>` with escaped content to `out`.
inline void append_text(std::string& out, double x, double y, std::string_view text, std::string_view attributes) {
  out += kerascpp::detail::cat("<text x=\"", coordinate(x), "\" y=\"", coordinate(y), "\"");
  if (!attributes.empty()) out += kerascpp::detail::cat(" ", attributes);
  out += kerascpp::detail::cat(">", escape_xml(text), "</text>\n");
}

/// Appends a straight `<line>` to `out`.
inline void append_line(std::string& out, double x1, double y1, double x2, double y2) {
  out += kerascpp::detail::cat("<line x1=\"", coordinate(x1), "\" y1=\"", coordinate(y1), "\" x2=\"", coordinate(x2),
                               "\" y2=\"", coordinate(y2), "\"/>\n");
}

/// Finite [low, high] over every value of a panel, padded 5% on each side as matplotlib does; a
/// constant series is padded by 10% of its value (or 1 around zero) so its line sits mid-panel.
/// `found` is false when the panel holds no finite value.
inline std::pair<double, double> value_range(const Panel& panel, bool& found) {
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  for (const auto& series : panel.series)
    for (const double value : *series.values)
      if (std::isfinite(value)) {
        low = std::min(low, value);
        high = std::max(high, value);
      }
  found = low <= high;
  if (!found) return {0.0, 1.0};
  // Halves are subtracted so that a range near ±1.8e308 does not overflow; bounds stay finite.
  const double largest = std::numeric_limits<double>::max();
  if (high > low) {
    const double margin = 0.05 * high - 0.05 * low;
    return {std::max(low - margin, -largest), std::min(high + margin, largest)};
  }
  double pad = low != 0.0 ? 0.1 * std::abs(low) : 1.0;
  // A tenth of the smallest subnormal values rounds to 0: pad by the value itself.
  if (!(low - pad < high + pad)) pad = std::abs(low);
  return {std::max(low - pad, -largest), std::min(high + pad, largest)};
}

/// Where `value` sits in [low, high], as a fraction, without overflow for ranges wider than the
/// largest double.
inline double fraction_of(double value, double low, double high) {
  const double span = high - low;
  if (std::isfinite(span)) return (value - low) / span;
  return (0.5 * value - 0.5 * low) / (0.5 * high - 0.5 * low);
}

/// Draws one panel whose top-left corner is (origin_x, origin_y).
inline void append_panel(std::string& out, const Panel& panel, double origin_x, double origin_y, double width,
                         double height);

}  // namespace detail

/// The keys of `history` in display order: `loss` and `val_loss` first, then every other metric
/// sorted by name, each followed by its `val_` twin.
inline std::vector<std::string> ordered_keys(const HistoryMap& history) {
  std::vector<std::string> keys;
  keys.reserve(history.size());
  for (const auto& entry : history) keys.push_back(entry.first);
  detail::sort_for_display(keys);
  return keys;
}

/// An SVG document drawing the learning curves of `history`: one panel per metric family (`loss`
/// with `val_loss`, `m` with `val_m`), each with a title, axes with nice ticks, "epoch" and the
/// metric name as axis labels, light grid lines and a legend. Epochs are numbered from 1.
/// NaN and infinite values are skipped and break the line; a lone point is drawn as a dot; series
/// of different lengths each use their own length. Throws `ValueError` when there is nothing to
/// plot, when a requested key is missing (listing the present keys) or for bad sizes.
inline std::string learning_curves_svg(const HistoryMap& history, const LearningCurvesOptions& options = {}) {
  using kerascpp::detail::cat;
  using kerascpp::detail::fail;
  constexpr std::string_view where = "learning_curves_svg";
  if (options.panel_width < 200 || options.panel_height < 150)
    fail(where, ": panel size must be at least 200 x 150 pixels, received ", options.panel_width, " x ",
         options.panel_height);
  if (options.columns < 1) fail(where, ": columns must be at least 1, received ", options.columns);
  if (history.empty()) fail(where, ": nothing to plot: the history is empty");

  std::vector<std::string> keys;
  if (options.keys.empty()) {
    keys = ordered_keys(history);
  } else {
    for (const auto& key : options.keys) {
      if (!history.contains(key))
        fail(where, ": key '", key,
             "' is not in the history; present keys: ", kerascpp::detail::join(ordered_keys(history)));
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
    detail::sort_for_display(keys);
  }

  bool any_epoch = false;
  for (const auto& key : keys) any_epoch = any_epoch || !history.at(key).empty();
  if (!any_epoch) fail(where, ": nothing to plot: no epoch recorded for ", kerascpp::detail::join(keys));

  std::vector<detail::Panel> panels;
  for (const auto& key : keys) {
    const std::string family = detail::family_of(key);
    if (panels.empty() || panels.back().family != family) panels.push_back({family, {}});
    const std::string_view colour =
        detail::is_validation_key(key) ? detail::validation_colour : detail::training_colour;
    panels.back().series.push_back({key, &history.at(key), std::string(colour)});
  }

  const int panel_count = static_cast<int>(panels.size());
  const int columns = std::min(options.columns, panel_count);
  const int rows = (panel_count + columns - 1) / columns;
  const double band = options.title.empty() ? 0.0 : detail::figure_title_band;
  const double width = static_cast<double>(columns) * options.panel_width;
  const double height = band + static_cast<double>(rows) * options.panel_height;

  std::string out = cat("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", detail::coordinate(width), "\" height=\"",
                        detail::coordinate(height), "\" viewBox=\"0 0 ", detail::coordinate(width), " ",
                        detail::coordinate(height), "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n");
  out += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  if (!options.title.empty())
    detail::append_text(out, width / 2.0, 25.0, options.title,
                        cat("font-size=\"", detail::fitted_font(options.title, detail::figure_title_font, width - 12.0),
                            "\" fill=\"", detail::text_colour, "\" text-anchor=\"middle\""));
  for (int i = 0; i < panel_count; ++i) {
    const double x = static_cast<double>(i % columns) * options.panel_width;
    const double y = band + static_cast<double>(i / columns) * options.panel_height;
    detail::append_panel(out, panels[static_cast<std::size_t>(i)], x, y, options.panel_width, options.panel_height);
  }
  out += "</svg>\n";
  return out;
}

/// `learning_curves_svg(owner.history, options)` for a `History` or any object with a `history`.
template <HasHistory Owner>
std::string learning_curves_svg(const Owner& owner, const LearningCurvesOptions& options = {}) {
  return learning_curves_svg(static_cast<const HistoryMap&>(owner.history), options);
}

/// Writes `learning_curves_svg(history, options)` to `path` with `io::write_file_atomically`.
/// Throws `ValueError` as `learning_curves_svg` does and `IOError` when the file cannot be written.
inline void save_learning_curves(const HistoryMap& history, const std::filesystem::path& path,
                                 const LearningCurvesOptions& options = {}) {
  io::check_path(path, "save_learning_curves");
  io::write_file_atomically(path, learning_curves_svg(history, options));
}

/// `save_learning_curves(owner.history, path, options)` for a `History` or any object with a `history`.
template <HasHistory Owner>
void save_learning_curves(const Owner& owner, const std::filesystem::path& path,
                          const LearningCurvesOptions& options = {}) {
  save_learning_curves(static_cast<const HistoryMap&>(owner.history), path, options);
}

/// The history as CSV: a header `epoch,<keys in ordered_keys order>` and one row per epoch
/// numbered from 1, values in the shortest form that reads back exactly (`nan`, `inf` and `-inf`
/// for those), and an empty cell where a series is shorter than the longest one. An empty history
/// gives the header `epoch` alone.
inline std::string history_csv(const HistoryMap& history) {
  const std::vector<std::string> keys = ordered_keys(history);
  std::size_t epochs = 0;
  for (const auto& entry : history) epochs = std::max(epochs, entry.second.size());
  std::string out = "epoch";
  for (const auto& key : keys) {
    out += ',';
    out += detail::csv_field(key);
  }
  out += "\n";
  for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
    out += std::to_string(epoch + 1);
    for (const auto& key : keys) {
      out += ",";
      const std::vector<double>& values = history.at(key);
      if (epoch < values.size()) out += detail::round_trip(values[epoch]);
    }
    out += "\n";
  }
  return out;
}

/// `history_csv(owner.history)` for a `History` or any object with a `history`.
template <HasHistory Owner>
std::string history_csv(const Owner& owner) {
  return history_csv(static_cast<const HistoryMap&>(owner.history));
}

/// Writes `history_csv(history)` to `path` with `io::write_file_atomically`; throws `IOError` when
/// the file cannot be written.
inline void save_history_csv(const HistoryMap& history, const std::filesystem::path& path) {
  io::check_path(path, "save_history_csv");
  io::write_file_atomically(path, history_csv(history));
}

/// `save_history_csv(owner.history, path)` for a `History` or any object with a `history`.
template <HasHistory Owner>
void save_history_csv(const Owner& owner, const std::filesystem::path& path) {
  save_history_csv(static_cast<const HistoryMap&>(owner.history), path);
}

namespace detail {

inline void append_panel(std::string& out, const Panel& panel, double origin_x, double origin_y, double width,
                         double height) {
  using kerascpp::detail::cat;

  // Vertical layout: title, plot area, x tick labels and the x axis label.
  const double top = 38.0;
  const double bottom = height - 48.0;
  const double plot_height = bottom - top;

  bool has_values = false;
  const std::pair<double, double> y_range = value_range(panel, has_values);
  const double y_low = y_range.first;
  const double y_high = y_range.second;
  const int max_y_ticks = std::clamp(static_cast<int>(plot_height / 32.0), 3, 10);
  const std::vector<double> y_ticks = nice_ticks(y_low, y_high, max_y_ticks);
  const double y_step = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : std::abs(y_high - y_low);
  std::vector<std::string> y_labels;
  double y_label_width = 0.0;
  for (const double tick : y_ticks) {
    y_labels.push_back(format_tick(tick, y_step));
    y_label_width = std::max(y_label_width, text_width(y_labels.back(), tick_font));
  }

  // Horizontal layout: y axis label, y tick labels, plot area.
  const double left = 10.0 + label_font + 10.0 + y_label_width + 8.0;
  const double right = width - 18.0;
  const double plot_width = right - left;

  std::size_t epochs = 0;
  for (const auto& series : panel.series) epochs = std::max(epochs, series.values->size());
  const double last_epoch = static_cast<double>(std::max<std::size_t>(epochs, 1));
  const double x_margin = last_epoch > 1.0 ? 0.05 * (last_epoch - 1.0) : 0.5;
  const double x_low = 1.0 - x_margin;
  const double x_high = last_epoch + x_margin;
  const int max_x_ticks = std::clamp(static_cast<int>(plot_width / 40.0), 2, 12);
  const std::vector<double> x_ticks = nice_ticks(x_low, x_high, max_x_ticks, true);
  const double x_step = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1.0;

  auto to_x = [&](double epoch) { return left + (epoch - x_low) / (x_high - x_low) * plot_width; };
  auto to_y = [&](double value) { return bottom - fraction_of(value, y_low, y_high) * plot_height; };

  out += cat("<g class=\"panel\" transform=\"translate(", coordinate(origin_x), ",", coordinate(origin_y), ")\">\n");
  const std::string title = panel_title(panel);
  const double title_x = (left + right) / 2.0;
  append_text(out, title_x, 24.0, title,
              cat("font-size=\"", fitted_font(title, title_font, 2.0 * std::min(title_x, width - title_x) - 12.0),
                  "\" fill=\"", text_colour, "\" text-anchor=\"middle\""));

  out += "<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"0.8\">\n";
  for (const double tick : x_ticks) append_line(out, to_x(tick), top, to_x(tick), bottom);
  for (const double tick : y_ticks) append_line(out, left, to_y(tick), right, to_y(tick));
  out += "</g>\n";

  // Series: one polyline per run of finite values, a dot for a run of one point. The pixel
  // points and segments are kept to place the legend where it hides the fewest of them.
  std::vector<std::pair<double, double>> points;
  std::vector<std::array<double, 4>> segments;
  std::vector<bool> drawn_as_line(panel.series.size(), false);
  out += "<g class=\"series\" fill=\"none\" stroke-width=\"1.8\" stroke-linejoin=\"round\" stroke-linecap=\"round\">\n";
  for (std::size_t index = 0; index < panel.series.size(); ++index) {
    const Series& series = panel.series[index];
    const std::vector<double>& values = *series.values;
    std::size_t start = 0;
    while (start < values.size()) {
      if (!std::isfinite(values[start])) {
        ++start;
        continue;
      }
      std::size_t end = start;
      while (end < values.size() && std::isfinite(values[end])) ++end;
      if (end - start == 1) {
        const double x = to_x(static_cast<double>(start + 1));
        const double y = to_y(values[start]);
        points.emplace_back(x, y);
        out += cat("<circle cx=\"", coordinate(x), "\" cy=\"", coordinate(y), "\" r=\"3\" fill=\"", series.colour,
                   "\" stroke=\"none\"/>\n");
      } else {
        drawn_as_line[index] = true;
        out += cat("<polyline stroke=\"", series.colour, "\" points=\"");
        for (std::size_t i = start; i < end; ++i) {
          const double x = to_x(static_cast<double>(i + 1));
          const double y = to_y(values[i]);
          if (i > start) {
            out += " ";
            segments.push_back({points.back().first, points.back().second, x, y});
          }
          points.emplace_back(x, y);
          out += cat(coordinate(x), ",", coordinate(y));
        }
        out += "\"/>\n";
      }
      start = end;
    }
  }
  out += "</g>\n";
  if (!has_values)
    append_text(out, (left + right) / 2.0, (top + bottom) / 2.0, "no finite values",
                "font-size=\"12\" fill=\"#8c8c8c\" text-anchor=\"middle\"");

  // Frame, tick marks and tick labels.
  out += cat("<g class=\"axes\" stroke=\"", text_colour, "\" stroke-width=\"0.8\">\n");
  out += cat("<rect x=\"", coordinate(left), "\" y=\"", coordinate(top), "\" width=\"", coordinate(plot_width),
             "\" height=\"", coordinate(plot_height), "\" fill=\"none\"/>\n");
  for (const double tick : x_ticks) append_line(out, to_x(tick), bottom, to_x(tick), bottom + 4.0);
  for (const double tick : y_ticks) append_line(out, left - 4.0, to_y(tick), left, to_y(tick));
  out += "</g>\n";
  out += cat("<g class=\"tick-labels\" font-size=\"", tick_font, "\" fill=\"", text_colour, "\">\n");
  for (const double tick : x_ticks)
    append_text(out, to_x(tick), bottom + 17.0, format_tick(tick, x_step), "text-anchor=\"middle\"");
  for (std::size_t i = 0; i < y_ticks.size(); ++i)
    append_text(out, left - 7.0, to_y(y_ticks[i]), y_labels[i], "text-anchor=\"end\" dy=\"0.35em\"");
  out += "</g>\n";

  // Axis labels.
  out += cat("<g class=\"axis-labels\" font-size=\"", label_font, "\" fill=\"", text_colour,
             "\" text-anchor=\"middle\">\n");
  append_text(out, (left + right) / 2.0, bottom + 37.0, "epoch", "");
  const double y_label_x = 10.0 + label_font * 0.8;
  const double y_label_y = (top + bottom) / 2.0;
  append_text(out, y_label_x, y_label_y, panel.family,
              cat("font-size=\"", fitted_font(panel.family, label_font, plot_height), "\" transform=\"rotate(-90 ",
                  coordinate(y_label_x), " ", coordinate(y_label_y), ")\""));
  out += "</g>\n";

  // Legend, in the corner or side that hides the fewest points and segments (matplotlib's "best").
  const double row_height = 17.0;
  const double sample_length = 22.0;
  double longest = 0.0;
  for (const auto& series : panel.series) longest = std::max(longest, text_width(series.key, tick_font));
  const double box_width = 8.0 + sample_length + 6.0 + longest + 8.0;
  const double box_height = 6.0 + row_height * static_cast<double>(panel.series.size()) + 2.0;
  const double inset = 8.0;
  const double far_x = right - inset - box_width;
  const double near_x = left + inset;
  const double mid_x = (left + right - box_width) / 2.0;
  const double high_y = top + inset;
  const double low_y = bottom - inset - box_height;
  const double mid_y = (top + bottom - box_height) / 2.0;
  const std::array<std::pair<double, double>, 8> corners{{{far_x, high_y},
                                                          {near_x, high_y},
                                                          {near_x, low_y},
                                                          {far_x, low_y},
                                                          {far_x, mid_y},
                                                          {near_x, mid_y},
                                                          {mid_x, high_y},
                                                          {mid_x, low_y}}};
  std::size_t best_hidden = std::numeric_limits<std::size_t>::max();
  double box_x = far_x;
  double box_y = high_y;
  for (const auto& [x, y] : corners) {
    std::size_t hidden = 0;
    for (const auto& [px, py] : points)
      if (px >= x && px <= x + box_width && py >= y && py <= y + box_height) ++hidden;
    for (const auto& s : segments)
      if (segment_meets_box(s[0], s[1], s[2], s[3], x, y, x + box_width, y + box_height)) ++hidden;
    if (hidden < best_hidden) {
      best_hidden = hidden;
      box_x = x;
      box_y = y;
    }
  }
  out += cat("<g class=\"legend\" font-size=\"", tick_font, "\">\n");
  out += cat("<rect x=\"", coordinate(box_x), "\" y=\"", coordinate(box_y), "\" width=\"", coordinate(box_width),
             "\" height=\"", coordinate(box_height),
             "\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#cccccc\" stroke-width=\"0.8\"/>\n");
  for (std::size_t i = 0; i < panel.series.size(); ++i) {
    const double row_y = box_y + 6.0 + row_height * (static_cast<double>(i) + 0.5);
    if (drawn_as_line[i])
      out += cat("<line x1=\"", coordinate(box_x + 8.0), "\" y1=\"", coordinate(row_y), "\" x2=\"",
                 coordinate(box_x + 8.0 + sample_length), "\" y2=\"", coordinate(row_y), "\" stroke=\"",
                 panel.series[i].colour, "\" stroke-width=\"1.8\"/>\n");
    else
      out += cat("<circle cx=\"", coordinate(box_x + 8.0 + sample_length / 2.0), "\" cy=\"", coordinate(row_y),
                 "\" r=\"3\" fill=\"", panel.series[i].colour, "\"/>\n");
    append_text(out, box_x + 8.0 + sample_length + 6.0, row_y, panel.series[i].key,
                cat("dy=\"0.35em\" fill=\"", text_colour, "\""));
  }
  out += "</g>\n";
  out += "</g>\n";
}

}  // namespace detail

}  // namespace kerascpp::plot
