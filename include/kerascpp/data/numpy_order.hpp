// kerascpp/data/numpy_order.hpp — numpy's order for equal values: `value_counts` sorts its counts
// as pandas 1.5 does, with numpy 1.24's unstable quicksort, and so lists equal counts in numpy's
// order, not in a stable one. The sort is reproduced step by step here.
#pragma once

#include <kerascpp/core.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace kerascpp::data::detail {

/// numpy 1.24's `argsort(kind="quicksort")` of `values` over the positions in `order` (introsort:
/// median-of-3 quicksort, insertion sort for up to 16 elements, heapsort past the depth limit). It is
/// not a stable sort, so it is copied step by step: ties come out in exactly numpy's order.
inline void numpy_argsort(const std::vector<std::int64_t>& values, std::vector<Index>& order) {
  const auto less = [&](Index a, Index b) { return values[static_cast<std::size_t>(a)] < values[static_cast<std::size_t>(b)]; };
  const auto heapsort = [&](Index* first, std::ptrdiff_t n) {
    Index* a = first - 1;  // 1-based heap indexing, as numpy writes it
    const auto sift = [&](Index tmp, std::ptrdiff_t i, std::ptrdiff_t size) {
      for (std::ptrdiff_t j = i * 2; j <= size;) {
        if (j < size && less(a[j], a[j + 1])) ++j;
        if (!less(tmp, a[j])) break;
        a[i] = a[j];
        i = j;
        j += j;
      }
      a[i] = tmp;
    };
    for (std::ptrdiff_t l = n >> 1; l > 0; --l) sift(a[l], l, n);
    for (; n > 1;) {
      const Index tmp = a[n];
      a[n] = a[1];
      --n;
      sift(tmp, 1, n);
    }
  };
  if (order.size() < 2) return;
  constexpr std::ptrdiff_t small = 15;
  std::vector<std::pair<Index*, Index*>> stack;
  std::vector<int> depths;
  Index* pl = order.data();
  Index* pr = order.data() + order.size() - 1;
  int depth = 0;
  for (std::size_t n = order.size(); n >>= 1;) ++depth;
  depth *= 2;
  for (;;) {
    if (depth < 0) {
      heapsort(pl, pr - pl + 1);
    } else {
      while (pr - pl > small) {
        Index* pm = pl + ((pr - pl) >> 1);
        if (less(*pm, *pl)) std::swap(*pm, *pl);
        if (less(*pr, *pm)) std::swap(*pr, *pm);
        if (less(*pm, *pl)) std::swap(*pm, *pl);
        const Index pivot = *pm;
        Index* pi = pl;
        Index* pj = pr - 1;
        std::swap(*pm, *pj);
        for (;;) {
          do ++pi;
          while (less(*pi, pivot));
          do --pj;
          while (less(pivot, *pj));
          if (pi >= pj) break;
          std::swap(*pi, *pj);
        }
        std::swap(*pi, *(pr - 1));
        if (pi - pl < pr - pi) {
          stack.emplace_back(pi + 1, pr);
          pr = pi - 1;
        } else {
          stack.emplace_back(pl, pi - 1);
          pl = pi + 1;
        }
        depths.push_back(--depth);
      }
      for (Index* pi = pl + 1; pi <= pr; ++pi) {
        const Index vi = *pi;
        Index* pj = pi;
        for (Index* pk = pi - 1; pj > pl && less(vi, *pk); --pk) *pj-- = *pk;
        *pj = vi;
      }
    }
    if (stack.empty()) break;
    std::tie(pl, pr) = stack.back();
    stack.pop_back();
    depth = depths.back();
    depths.pop_back();
  }
}

/// The positions that sort `counts` in descending order the way pandas 1.5's
/// `sort_values(ascending=False)` does: reverse, numpy quicksort argsort, reverse.
inline std::vector<Index> descending_order(const std::vector<std::int64_t>& counts) {
  const std::vector<std::int64_t> reversed(counts.rbegin(), counts.rend());
  std::vector<Index> order(counts.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<Index>(i);
  numpy_argsort(reversed, order);
  std::vector<Index> out(order.size());
  const auto last = static_cast<Index>(counts.size()) - 1;
  for (std::size_t i = 0; i < order.size(); ++i) out[order.size() - 1 - i] = last - order[i];
  return out;
}

}  // namespace kerascpp::data::detail
