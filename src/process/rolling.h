// Rolling aggregates over window values (contract §3), computed so that the result for a
// row depends only on the set of values in its range (t - D, t], never on which batch or
// in which order they arrived: "order independence" to the last bit.
//
// How: time is cut into blocks aligned to multiples of B (a fixed function of D and W,
// B <= D). Every block keeps, for each of its values in time order, the aggregate of the
// block's values up to it (prefix) and from it to the block's end (suffix). A range
// (t - D, t] with D >= B is then: the suffix of its first block, whole blocks, and the
// prefix of its last block, combined left to right. Every partial is computed in time
// order from a block boundary, so the floating-point result is a pure function of the
// values. Cost per row: O(D / B) combines (B = D / 16: 17 at most).
//
// Aggregates: mean (sum / n, summed in time order), std (sample, n - 1, from Welford
// partials merged with Chan's formula: numerically stable), min, max, count, last.
// Pure, thread-compatible.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "vigil/config.h"

namespace vigil::process {

struct Agg {
  int64_t n = 0;
  double sum = 0;
  double mean = 0;  // Welford
  double m2 = 0;
  double min = 0, max = 0;

  void Add(double x) {
    ++n;
    sum += x;
    double d = x - mean;
    mean += d / static_cast<double>(n);
    m2 += d * (x - mean);
    min = n == 1 ? x : std::min(min, x);
    max = n == 1 ? x : std::max(max, x);
  }
  // Chan et al.: combine two disjoint partials; `this` is the earlier one.
  void Merge(const Agg& b) {
    if (b.n == 0) return;
    if (n == 0) {
      *this = b;
      return;
    }
    const double na = static_cast<double>(n), nb = static_cast<double>(b.n);
    const double delta = b.mean - mean;
    const double total = na + nb;
    mean += delta * nb / total;
    m2 += b.m2 + delta * delta * na * nb / total;
    sum += b.sum;
    n += b.n;
    min = std::min(min, b.min);
    max = std::max(max, b.max);
  }
};

// The block length used for a feature of duration D over windows of length W.
int64_t BlockMs(int64_t duration_ms, int64_t window_ms);

// One sensor's window values of one machine, sorted by window start, no duplicates.
struct Series {
  std::vector<int64_t> ts;
  std::vector<double> v;
};

// Evaluates one feature for the rows at window starts `rows` (sorted). Values must cover
// (rows.front() - D - B, rows.back()] completely. NULL = nullopt.
std::vector<std::optional<double>> Rolling(const Series& s, const std::vector<int64_t>& rows,
                                           Aggregate agg, int64_t duration_ms, int64_t window_ms);

}  // namespace vigil::process
