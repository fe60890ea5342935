// kerascpp/core.hpp — conventions shared by every header: matrix aliases, exceptions, the random
// number generator, logs, and the small helpers that format error messages.
//
// Rows are samples and columns are features everywhere: a batch x is (batch × features), a Dense
// kernel W is (inputs × units), a bias b is (1 × units) and y = x·W + b is broadcast over rows.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <concepts>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace kerascpp {

using Index = Eigen::Index;

/// Column-major dynamic matrix: what users usually hold and what `predict` returns.
template <typename Scalar>
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

/// Row-major dynamic matrix: the internal layout of batches, so that the first `rows` rows of a
/// buffer are contiguous and a smaller batch reuses the same memory.
template <typename Scalar>
using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <typename Scalar>
using RowVector = Eigen::Matrix<Scalar, 1, Eigen::Dynamic>;

template <typename Scalar>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

template <typename Scalar>
using MatrixView = Eigen::Map<RowMatrix<Scalar>, Eigen::Aligned16>;

template <typename Scalar>
using ConstMatrixView = Eigen::Map<const RowMatrix<Scalar>, Eigen::Aligned16>;

/// Any stored matrix, read-only: element (i, j) at data[i·outerStride + j·innerStride]. Row-major
/// and column-major matrices, blocks and maps all fit, so code taking data from users is compiled
/// once per Scalar instead of once per layout.
template <typename Scalar>
using StridedView = Eigen::Map<const RowMatrix<Scalar>, Eigen::Unaligned, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;

/// A read-only view of the same rows.
template <typename Scalar>
ConstMatrixView<Scalar> as_const(const MatrixView<Scalar>& v) {
  return ConstMatrixView<Scalar>(v.data(), v.rows(), v.cols());
}

/// A layer's, optimizer's or loss's configuration as text, for summary and saving.
using Config = std::map<std::string, std::string>;

// ---------------------------------------------------------------------------------------------
// Exceptions. Every message says what was wrong, what was expected and what was received.

/// What every kerascpp exception is besides its standard type: `catch (const kerascpp::Error& e)`
/// takes ValueError, IOError and StateError alike. It is not a std::exception itself, so that each
/// of them is exactly one std::exception and `catch (const std::exception&)` still takes them.
class Error {
 public:
  virtual ~Error() = default;
  virtual const char* what() const noexcept = 0;

 protected:
  Error() = default;
  Error(const Error&) = default;
  Error& operator=(const Error&) = default;
};

/// A bad argument, shape or value given by the user (Keras raises ValueError for these).
class ValueError : public std::invalid_argument, public Error {
 public:
  using std::invalid_argument::invalid_argument;
  const char* what() const noexcept override { return std::invalid_argument::what(); }
};

/// A file that cannot be opened, read, written or parsed.
class IOError : public std::runtime_error, public Error {
 public:
  using std::runtime_error::runtime_error;
  const char* what() const noexcept override { return std::runtime_error::what(); }
};

/// A call made in the wrong state, such as `fit` before `compile` or `predict` on an unbuilt model.
class StateError : public std::logic_error, public Error {
 public:
  using std::logic_error::logic_error;
  const char* what() const noexcept override { return std::logic_error::what(); }
};

namespace detail {

/// Digits that `cat` writes for floating-point numbers.
inline constexpr int message_precision = std::numeric_limits<double>::max_digits10 - 2;

/// One argument of `cat`, reduced to text, a character, an integer, a double or a pointer to an
/// object with its own operator<<, so that formatting is compiled once instead of once per
/// combination of argument types. Trivially destructible, so a list of parts costs no cleanup code.
class MessagePart {
 public:
  MessagePart(const char* text) : kind_(Kind::text), text_(text) {}  // NOLINT: implicit by design
  MessagePart(std::string_view text) : kind_(Kind::text), text_(text) {}  // NOLINT
  MessagePart(const std::string& text) : kind_(Kind::text), text_(text) {}  // NOLINT
  MessagePart(char c) : kind_(Kind::character), signed_(c) {}  // NOLINT
  MessagePart(signed char c) : kind_(Kind::character), signed_(c) {}  // NOLINT
  MessagePart(unsigned char c) : kind_(Kind::character), signed_(static_cast<char>(c)) {}  // NOLINT
  MessagePart(bool b) : kind_(Kind::signed_integer), signed_(b) {}  // NOLINT: prints 1 or 0, as ostream does
  template <typename T>
    requires(std::is_integral_v<T> && std::is_signed_v<T>)
  MessagePart(T v) : kind_(Kind::signed_integer), signed_(v) {}  // NOLINT
  template <typename T>
    requires(std::is_integral_v<T> && std::is_unsigned_v<T>)
  MessagePart(T v) : kind_(Kind::unsigned_integer), unsigned_(v) {}  // NOLINT
  MessagePart(float v) : kind_(Kind::floating), floating_(v) {}  // NOLINT: ostream widens float too
  MessagePart(double v) : kind_(Kind::floating), floating_(v) {}  // NOLINT
  template <typename T>
    requires((!std::is_arithmetic_v<T> || std::is_same_v<T, long double>) &&
             !std::is_convertible_v<const T&, std::string_view>)
  MessagePart(const T& v) : kind_(Kind::other), other_{&v, &write_other<T>} {}  // NOLINT

  void write(std::ostream& out) const {
    switch (kind_) {
      case Kind::text: out << text_; break;
      case Kind::character: out << static_cast<char>(signed_); break;
      case Kind::signed_integer: out << signed_; break;
      case Kind::unsigned_integer: out << unsigned_; break;
      case Kind::floating: out << floating_; break;
      case Kind::other: other_.write(out, other_.object); break;
    }
  }

 private:
  enum class Kind : unsigned char { text, character, signed_integer, unsigned_integer, floating, other };
  struct Other {
    const void* object;
    void (*write)(std::ostream&, const void*);
  };
  template <typename T>
  static void write_other(std::ostream& out, const void* object) {
    out << *static_cast<const T*>(object);
  }

  Kind kind_;
  union {
    std::string_view text_;
    long long signed_;
    unsigned long long unsigned_;
    double floating_;
    Other other_;
  };
};

/// The parts written one after another, numbers with `message_precision` digits.
[[gnu::noinline]] inline std::string cat_parts(const MessagePart* parts, std::size_t count) {
  std::ostringstream out;
  out.precision(message_precision);
  for (std::size_t i = 0; i < count; ++i) parts[i].write(out);
  return std::move(out).str();
}

[[noreturn, gnu::noinline, gnu::cold]] inline void throw_value_error(const MessagePart* parts, std::size_t count) {
  throw ValueError(cat_parts(parts, count));
}

/// Writes its arguments into one string, as `std::ostream <<` does, with 15 significant digits.
template <typename... Parts>
std::string cat(const Parts&... parts) {
  if constexpr (sizeof...(Parts) == 0) {
    return std::string();
  } else {
    const MessagePart list[] = {MessagePart(parts)...};
    return cat_parts(list, sizeof...(Parts));
  }
}

/// Throws a ValueError whose message is cat(parts...).
template <typename... Parts>
[[noreturn, gnu::cold]] void fail(const Parts&... parts) {
  const MessagePart list[] = {MessagePart(parts)...};
  throw_value_error(list, sizeof...(Parts));
}

/// The shortest text that reads back as exactly the same double (for configurations and files).
inline std::string number(double value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

inline std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out += sep;
    out += items[i];
  }
  return out;
}

/// The keys of a map in its order, joined with ", ": what a message about a missing key lists.
template <typename Map>
std::string joined_keys(const Map& map) {
  std::vector<std::string> keys;
  for (const auto& entry : map) keys.push_back(entry.first);
  return join(keys);
}

/// A string quoted for an error message: non-printable bytes escaped, long text cut.
inline std::string quote(std::string_view text) {
  constexpr std::size_t limit = 80;
  std::string out = "'";
  for (std::size_t k = 0; k < text.size() && k < limit; ++k) {
    const auto c = static_cast<unsigned char>(text[k]);
    if (c >= 0x20 && c < 0x7F && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      constexpr std::string_view hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xFU];
    }
  }
  if (text.size() > limit) out += cat("...' (", text.size(), " bytes)");
  else out += "'";
  return out;
}

/// " (did you mean 'Adam'?)" when one of `names` is within a typo of `name` (case ignored; at most
/// one edit, two for names of 6 or more characters), the closest and first registered; "" otherwise.
inline std::string did_you_mean(std::string_view name, const std::vector<std::string>& names) {
  if (name.empty() || name.size() > 64) return {};
  const auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
  // Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.
  const auto distance = [&](std::string_view a, std::string_view b) {
    std::vector<std::size_t> before(b.size() + 1), last(b.size() + 1), row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) last[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        const std::size_t change = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
        row[j] = std::min({last[j] + 1, row[j - 1] + 1, last[j - 1] + change});
        if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
          row[j] = std::min(row[j], before[j - 2] + 1);
      }
      std::swap(before, last);
      std::swap(last, row);
    }
    return last[b.size()];
  };
  const std::size_t allowed = name.size() >= 6 ? 2 : 1;
  const std::string* best = nullptr;
  std::size_t best_distance = allowed + 1;
  for (const auto& candidate : names) {
    const std::size_t d = distance(name, candidate);
    if (d < best_distance && candidate != name) {
      best = &candidate;
      best_distance = d;
    }
  }
  return best == nullptr ? std::string() : cat(" (did you mean ", quote(*best), "?)");
}

/// One character quoted for an error message as C++ writes it: 'x', '\n', '\r', '\t', '\0', '"';
/// other bytes as quote() writes them.
inline std::string quoted_char(char c) {
  switch (c) {
    case '\n': return "'\\n'";
    case '\r': return "'\\r'";
    case '\t': return "'\\t'";
    case '\0': return "'\\0'";
    default: return quote(std::string_view(&c, 1));
  }
}

inline std::string shape_string(Index rows, Index cols) { return cat("(", rows, ", ", cols, ")"); }

/// "float" or "double", for messages about what the model's Scalar can hold.
template <typename Scalar>
constexpr const char* scalar_name() {
  return std::is_same_v<Scalar, float> ? "float" : "double";
}

/// Throws when a matrix holds NaN or infinity, naming the first offending row and column; when
/// that value is NaN, `nan_hint` ends the message.
template <typename Derived>
void check_finite(const Eigen::MatrixBase<Derived>& m, std::string_view where, std::string_view what,
                  std::string_view nan_hint = {}) {
  using Scalar = typename Derived::Scalar;
  // x·0 is 0 for every finite x and NaN for ±inf and NaN; this sum vectorizes, allFinite() does not.
  if ((m.array() * Scalar(0)).sum() == Scalar(0)) return;
  for (Index i = 0; i < m.rows(); ++i)
    for (Index j = 0; j < m.cols(); ++j)
      if (!std::isfinite(static_cast<double>(m(i, j))))
        fail(where, ": ", what, " must be finite, received ", m(i, j), " at row ", i, ", column ", j,
             std::isnan(static_cast<double>(m(i, j))) ? nan_hint : std::string_view());
}

}  // namespace detail

/// Per-epoch or per-batch values by name (`loss`, `val_loss`, `binary_accuracy`, ...): a std::map,
/// ordered so that printing is deterministic, whose `at` names a missing key and the keys present
/// (a ValueError, where std::map::at throws std::out_of_range "map::at").
class Logs : public std::map<std::string, double> {
 public:
  using std::map<std::string, double>::map;
  double& at(const std::string& key) { return const_cast<double&>(static_cast<const Logs&>(*this).at(key)); }
  const double& at(const std::string& key) const {
    const auto it = find(key);
    if (it == end())
      detail::fail("Logs: no key '", key, "'; ",
                   empty() ? std::string("the logs are empty") : "present keys are: " + detail::joined_keys(*this));
    return it->second;
  }
};

// ---------------------------------------------------------------------------------------------
// Random numbers. One generator type, with distributions written here so that a seed gives the
// same numbers with every standard library.

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : state_(seed) {}

  void seed(std::uint64_t seed) { state_ = seed; }
  std::uint64_t state() const { return state_; }

  /// splitmix64: a fast, well-mixed 64-bit generator.
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  /// Uniform on [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  double uniform(double low, double high) { return low + (high - low) * uniform(); }

  /// Standard normal by the Box–Muller transform.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = 0.0;
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    constexpr double two_pi = 6.283185307179586476925286766559;
    spare_ = radius * std::sin(two_pi * u2);
    has_spare_ = true;
    return radius * std::cos(two_pi * u2);
  }

  /// Normal draw rejected and redrawn outside two standard deviations (Keras TruncatedNormal).
  double truncated_normal() {
    for (;;) {
      const double z = normal();
      if (std::abs(z) <= 2.0) return z;
    }
  }

  /// Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
    std::uint64_t r = next();
    while (r >= limit) r = next();
    return r % n;
  }

  /// Fisher–Yates shuffle of any random-access range.
  template <typename Range>
  void shuffle(Range& range) {
    const auto n = static_cast<std::uint64_t>(range.size());
    for (std::uint64_t i = n; i > 1; --i) {
      const std::uint64_t j = below(i);
      std::swap(range[i - 1], range[j]);
    }
  }

 private:
  std::uint64_t state_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

namespace detail {

/// Whether T derives from Base<float> or Base<double> but not from Base<Scalar>: a layer,
/// callback, metric, loss or optimizer of another Scalar than the model's. Overloads constrained
/// on it turn such a mix-up into a compile error that names the fix.
template <typename T, template <typename> class Base, typename Scalar>
concept other_scalar =
    (std::derived_from<T, Base<float>> || std::derived_from<T, Base<double>>) && !std::derived_from<T, Base<Scalar>>;

}  // namespace detail

namespace detail {
inline std::uint64_t& global_seed() {
  static std::uint64_t seed = 1337;
  return seed;
}
}  // namespace detail

namespace utils {
/// Sets the seed that models created afterwards use when they are not given one of their own.
inline void set_random_seed(std::uint64_t seed) { detail::global_seed() = seed; }
}  // namespace utils

}  // namespace kerascpp
