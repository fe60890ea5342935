// kerascpp/data/random_state.hpp — numpy's legacy `RandomState`, as far as pandas' `sample` uses it.
//
// pandas' `DataFrame.sample(frac=f, random_state=s)` takes n = round(f * len) rows (Python's
// round: halves go to the even neighbour) at the positions
// `numpy.random.RandomState(s).choice(len, size=n, replace=False)`. Legacy numpy computes that
// choice as `permutation(len)[:n]`: a Fisher–Yates shuffle of 0..len-1 from the last element down,
// each swap partner drawn by `random_interval` (mask to the smallest 2^k - 1 covering the bound,
// reject and redraw values above it) from an MT19937 generator seeded with `init_genrand` (integer
// seed) or `init_by_array` (array seed). `RandomState` reproduces exactly that, so the same seed
// picks the same rows here as in pandas (checked against pandas 1.5 / numpy 1.24 by
// tools/make_pandas_vectors.py and tests/test_data.cpp).
#pragma once

#include <kerascpp/core.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

namespace kerascpp::data {

// kerascpp's message helpers, also reachable as `detail::` from inside kerascpp::data.
namespace detail {
using kerascpp::detail::cat;
using kerascpp::detail::fail;
using kerascpp::detail::join;
}  // namespace detail

/// MT19937 with numpy's legacy seeding and legacy permutation algorithm (`numpy.random.RandomState`).
class RandomState {
 public:
  /// Seeds like `numpy.random.RandomState(seed)` with an integer seed in [0, 2**32 - 1].
  explicit RandomState(std::int64_t seed) {
    if (seed < 0 || seed > std::int64_t{0xFFFFFFFF})
      detail::fail("RandomState: seed must be between 0 and 2**32 - 1, received ", seed);
    init_genrand(static_cast<std::uint32_t>(seed));
  }

  /// Seeds like `numpy.random.RandomState(key)` with a non-empty array of 32-bit integers.
  explicit RandomState(const std::vector<std::uint32_t>& key) {
    if (key.empty()) detail::fail("RandomState: an array seed must not be empty");
    init_by_array(key);
  }

  /// The next raw 32-bit output of the generator (numpy's `random_raw` on the legacy generator).
  std::uint32_t next_uint32() {
    if (position_ >= state_size) generate();
    std::uint32_t y = state_[position_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9D2C5680U;
    y ^= (y << 15) & 0xEFC60000U;
    y ^= y >> 18;
    return y;
  }

  /// A uniform integer in [0, max], by numpy's masked rejection sampling (`random_interval`).
  std::uint64_t random_interval(std::uint64_t max) {
    if (max == 0) return 0;
    std::uint64_t mask = max;
    for (int shift = 1; shift <= 32; shift *= 2) mask |= mask >> shift;
    std::uint64_t value = 0;
    if (max <= 0xFFFFFFFFULL) {
      do value = next_uint32() & mask;
      while (value > max);
    } else {
      do value = next_uint64() & mask;
      while (value > max);
    }
    return value;
  }

  /// Shuffles a random-access range in place like numpy's legacy `shuffle` of a 1-D array.
  template <typename Range>
  void shuffle(Range& range) {
    const auto n = static_cast<std::uint64_t>(range.size());
    for (std::uint64_t i = n > 0 ? n - 1 : 0; i > 0; --i) {
      const std::uint64_t j = random_interval(i);
      using std::swap;
      swap(range[i], range[j]);
    }
  }

  /// 0..n-1 in random order, like `RandomState.permutation(n)`.
  std::vector<Index> permutation(Index n) {
    if (n < 0) detail::fail("RandomState.permutation: n must be non-negative, received ", n);
    std::vector<Index> values(static_cast<std::size_t>(n));
    std::iota(values.begin(), values.end(), Index{0});
    shuffle(values);
    return values;
  }

  /// `size` distinct positions out of 0..n-1, like `RandomState.choice(n, size, replace=False)`.
  std::vector<Index> choice(Index n, Index size) {
    if (size < 0 || size > n)
      detail::fail("RandomState.choice: cannot take ", size, " distinct values out of ", n,
                   " (size must be between 0 and n)");
    std::vector<Index> values = permutation(n);
    values.resize(static_cast<std::size_t>(size));
    return values;
  }

 private:
  static constexpr std::size_t state_size = 624;

  std::uint64_t next_uint64() {
    const std::uint64_t high = next_uint32();
    return (high << 32) | next_uint32();
  }

  void init_genrand(std::uint32_t seed) {
    state_[0] = seed;
    for (std::size_t i = 1; i < state_size; ++i)
      state_[i] = 1812433253U * (state_[i - 1] ^ (state_[i - 1] >> 30)) + static_cast<std::uint32_t>(i);
    position_ = state_size;
  }

  void init_by_array(const std::vector<std::uint32_t>& key) {
    init_genrand(19650218U);
    std::size_t i = 1;
    std::size_t j = 0;
    for (std::size_t k = std::max(state_size, key.size()); k > 0; --k) {
      state_[i] =
          (state_[i] ^ ((state_[i - 1] ^ (state_[i - 1] >> 30)) * 1664525U)) + key[j] + static_cast<std::uint32_t>(j);
      ++i;
      ++j;
      if (i >= state_size) {
        state_[0] = state_[state_size - 1];
        i = 1;
      }
      if (j >= key.size()) j = 0;
    }
    for (std::size_t k = state_size - 1; k > 0; --k) {
      state_[i] = (state_[i] ^ ((state_[i - 1] ^ (state_[i - 1] >> 30)) * 1566083941U)) - static_cast<std::uint32_t>(i);
      ++i;
      if (i >= state_size) {
        state_[0] = state_[state_size - 1];
        i = 1;
      }
    }
    state_[0] = 0x80000000U;
    position_ = state_size;
  }

  void generate() {
    constexpr std::uint32_t upper = 0x80000000U;
    constexpr std::uint32_t lower = 0x7FFFFFFFU;
    for (std::size_t k = 0; k < state_size; ++k) {
      const std::uint32_t y = (state_[k] & upper) | (state_[(k + 1) % state_size] & lower);
      state_[k] = state_[(k + 397) % state_size] ^ (y >> 1) ^ ((y & 1U) != 0 ? 0x9908B0DFU : 0U);
    }
    position_ = 0;
  }

  std::array<std::uint32_t, state_size> state_{};
  std::size_t position_ = state_size;
};

}  // namespace kerascpp::data
