// kerascpp/plot/ticks.hpp — axis ticks at "nice" round values and their text, for the learning
// curves of plot.hpp (and for anyone drawing their own axes).
#pragma once

#include <kerascpp/core.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace kerascpp::plot {

namespace detail {

/// A tick step `mantissa × 10^exponent` with mantissa 1, 2, 2.5 or 5.
struct Step {
  double mantissa = 1.0;
  int exponent = 0;
};

/// 10^n, exact for |n| ≤ 22.
inline double power_of_ten(int n) {
  double result = 1.0;
  for (int i = 0; i < (n < 0 ? -n : n); ++i) result *= 10.0;
  return result;
}

/// `multiple × 10^exponent`, divided rather than multiplied for negative exponents so that
/// 3 × 10^-1 is the double nearest 0.3 (as the literal `0.3` is).
inline double scale(double multiple, int exponent) {
  const double computed = exponent >= 0 ? multiple * power_of_ten(exponent) : multiple / power_of_ten(-exponent);
  if (exponent >= -22 && exponent <= 22) return computed;
  // Beyond 10^22 the powers are inexact: read "<multiple>e<exponent>" back, correctly rounded.
  char buffer[512];
  const auto written = std::to_chars(buffer, buffer + 480, multiple, std::chars_format::fixed);
  if (written.ec != std::errc()) return computed;
  char* end = written.ptr;
  *end++ = 'e';
  end = std::to_chars(end, buffer + sizeof buffer, exponent).ptr;
  double value = 0.0;
  const auto result = std::from_chars(buffer, end, value);
  return result.ec == std::errc() && result.ptr == end ? value : computed;
}

/// The next nice step up: 1 → 2 → 2.5 → 5 → 10, skipping 2.5 for whole steps (`integer`).
inline Step larger_step(Step step, bool integer) {
  if (step.mantissa == 1.0) return {2.0, step.exponent};
  if (step.mantissa == 2.0) return integer && step.exponent == 0 ? Step{5.0, 0} : Step{2.5, step.exponent};
  if (step.mantissa == 2.5) return {5.0, step.exponent};
  return {1.0, step.exponent + 1};
}

/// The next nice step down: 10 → 5 → 2.5 → 2 → 1, skipping 2.5 for whole steps (`integer`).
inline Step smaller_step(Step step, bool integer) {
  if (step.mantissa == 5.0) return integer && step.exponent == 0 ? Step{2.0, 0} : Step{2.5, step.exponent};
  if (step.mantissa == 2.5) return {2.0, step.exponent};
  if (step.mantissa == 2.0) return {1.0, step.exponent};
  return {5.0, step.exponent - 1};
}

/// Index range [first, last] of the multiples of `step` inside [low, high].
inline std::pair<double, double> multiples_within(double low, double high, Step step) {
  const double size = scale(step.mantissa, step.exponent);
  return {std::ceil(low / size - 1e-9), std::floor(high / size + 1e-9)};
}

inline double count_within(double low, double high, Step step) {
  const auto [first, last] = multiples_within(low, high, step);
  return std::max(0.0, last - first + 1.0);
}

/// Number of decimals that shows every multiple of `step` exactly (0.05 → 2, 0.025 → 3, 20 → 0).
inline int decimals_for(double step) {
  for (int decimals = 0; decimals < 12; ++decimals) {
    const double scaled = step * power_of_ten(decimals);
    if (std::abs(scaled - std::round(scaled)) <= 1e-6 * scaled) return decimals;
  }
  return 12;
}

/// Shortest text that reads back as the same double; `nan`, `inf` and `-inf` for the others.
inline std::string round_trip(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

}  // namespace detail

/// Ticks at "nice" round values (multiples of 1, 2, 2.5 or 5 × 10^k) inside [low, high]: the
/// smallest such step that gives at most `max_ticks` ticks, or, when that step leaves fewer than
/// two ticks in the range, the largest step that gives at least two. With `integer`, steps are whole
/// numbers (for epochs). [0.0921, 0.3012] gives 0.1, 0.15, 0.2, 0.25, 0.3; [0, 1] gives 0, 0.2,
/// ..., 1; low == high gives {low}, and a range too narrow for steps of normal doubles (a step
/// below 1e-290) one tick mid-range. Ranges wider than the largest double are fine. Throws
/// `ValueError` for non-finite bounds, low > high or max_ticks < 2.
inline std::vector<double> nice_ticks(double low, double high, int max_ticks = 6, bool integer = false) {
  if (!std::isfinite(low) || !std::isfinite(high) || low > high)
    kerascpp::detail::fail("nice_ticks: expected finite bounds with low <= high, received [", low, ", ", high, "]");
  if (max_ticks < 2) kerascpp::detail::fail("nice_ticks: max_ticks must be at least 2, received ", max_ticks);
  if (low == high) return {low};
  // A range wider than the largest double is divided before subtracting, so as not to overflow.
  const double span = high - low;
  const double raw = std::isfinite(span) ? span / (max_ticks - 1) : high / (max_ticks - 1) - low / (max_ticks - 1);
  // A range too narrow to divide into steps of normal doubles is drawn as flat: one tick mid-range.
  if (!(raw >= 1e-290)) return {0.5 * low + 0.5 * high};
  // Walk up the ladder of nice steps from below the even split of the range to the first step
  // that fits, then back down while fewer than two ticks would show.
  detail::Step step{1.0, static_cast<int>(std::floor(std::log10(raw))) - 1};
  if (integer && step.exponent < 0) step = {1.0, 0};
  for (int guard = 0; guard < 64 && detail::count_within(low, high, step) > max_ticks; ++guard)
    step = detail::larger_step(step, integer);
  for (int guard = 0; guard < 64 && detail::count_within(low, high, step) < 2.0; ++guard) {
    if (integer && step.mantissa == 1.0 && step.exponent == 0) break;
    step = detail::smaller_step(step, integer);
  }
  const auto [first, last] = detail::multiples_within(low, high, step);
  const double count = std::min(last - first + 1.0, 1000.0);
  std::vector<double> ticks;
  for (double i = 0.0; i < count; i += 1.0) {
    const double tick = detail::scale((first + i) * step.mantissa, step.exponent);
    ticks.push_back(tick == 0.0 ? 0.0 : tick);
  }
  return ticks;
}

/// Text of a tick `value` on an axis whose ticks are `step` apart: the same number of decimals on
/// every tick of the axis (0.10, 0.15, 0.20), and the shortest exact form for very large or very
/// small values (1e-05, 2.5e+08).
inline std::string format_tick(double value, double step) {
  if (!std::isfinite(value)) return detail::round_trip(value);
  if (std::isfinite(step) && step > 0.0 && std::abs(value) < 1e-9 * step) value = 0.0;
  const int decimals = std::isfinite(step) && step > 0.0 ? detail::decimals_for(step) : 6;
  if (decimals > 6 || std::abs(value) >= 1e7) return detail::round_trip(value);
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, decimals);
  return std::string(buffer, result.ptr);
}

}  // namespace kerascpp::plot
