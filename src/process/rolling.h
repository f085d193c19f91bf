// Rolling aggregates over window values (contract §3), computed so that the result for a
// row depends only on the values in its range (t - D, t], never on which batch or in which
// order they arrived: "order independence" to the last bit.
//
// How: time is cut into blocks aligned to multiples of B (a fixed function of D and W,
// B <= D). A range (t - D, t] is three parts, combined left to right with Chan's merge
// (first, then middle, then last):
//   - first: the values of the block holding t - D that lie in the range, folded right to
//     left from the block's end (a "suffix");
//   - middle: every block wholly inside the range, each folded left to right from its
//     start (its "partial": what the store persists per block, so that a batch needs no
//     values of the middle of a 24 h range, only its partials); where a whole group of
//     kGroup blocks (aligned to multiples of kGroup * B) lies inside, the group's partial
//     (its blocks' partials merged in order) stands for them; the middle's blocks and
//     groups are merged in order into one partial, shared by the rows with the same
//     first and last blocks;
//   - last: the values of the block holding t, up to t, folded left to right (a "prefix").
// Every part is a pure function of its values, so the result is a pure function of the
// values in range. Cost per row: two merges, plus about 2 * kGroup + D / (kGroup * B)
// (22 for B = D / 64) for each new pair of first and last blocks (every B / W rows), and
// a batch that rewrites the rows of a span S reads the values of about S + 2B at each edge.
//
// Aggregates: mean (sum / n, summed in part order), std (sample, n - 1, from Welford
// partials merged with Chan's formula: numerically stable), min, max, count, last, slope
// (least squares over the values' times in hours: co-moments of time and value, merged
// the same way, with times relative to the partial's first value so that a second apart
// stays exact whatever the epoch; NULL below two values).

// Pure, thread-compatible.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "vigil/config.h"

namespace vigil::process {

// Hours from milliseconds: the time axis of kSlope.
inline double Hours(int64_t t_ms) { return static_cast<double>(t_ms) / 3'600'000.0; }

struct Agg {
  int64_t n = 0;
  double sum = 0;
  double mean = 0;  // Welford
  double m2 = 0;
  double min = 0, max = 0;
  double last = 0;  // the latest value in time order
  int64_t origin_ms = 0;                  // the first value's time: the time moments' origin
  double mean_t = 0, m2_t = 0, c_tv = 0;  // time (hours after origin): mean, M2, co-moment with x

  void Add(double x, int64_t t_ms) {
    if (n == 0) origin_ms = t_ms;
    const double t_h = Hours(t_ms - origin_ms);
    ++n;
    sum += x;
    double d = x - mean;
    mean += d / static_cast<double>(n);
    m2 += d * (x - mean);
    const double dt = t_h - mean_t;
    mean_t += dt / static_cast<double>(n);
    m2_t += dt * (t_h - mean_t);
    c_tv += dt * (x - mean);
    min = n == 1 ? x : std::min(min, x);
    max = n == 1 ? x : std::max(max, x);
    last = x;
  }
  // Chan et al.: combine two disjoint partials; `this` is the earlier one.
  void Merge(const Agg& b) {
    if (b.n == 0) return;
    if (n == 0) {
      *this = b;
      return;
    }
    const double na = static_cast<double>(n), nb = static_cast<double>(b.n);
    const double delta = b.mean - mean, delta_t = b.mean_t + Hours(b.origin_ms - origin_ms) - mean_t;
    const double total = na + nb;
    mean += delta * nb / total;
    m2 += b.m2 + delta * delta * na * nb / total;
    mean_t += delta_t * nb / total;
    m2_t += b.m2_t + delta_t * delta_t * na * nb / total;
    c_tv += b.c_tv + delta_t * delta * na * nb / total;
    sum += b.sum;
    n += b.n;
    min = std::min(min, b.min);
    max = std::max(max, b.max);
    last = b.last;
  }
};

// Blocks per group (see above).
constexpr int64_t kGroup = 8;
// The block length used for a feature of duration D over windows of length W.
int64_t BlockMs(int64_t duration_ms, int64_t window_ms);
// floor(t / b) * b, for negative t too.
int64_t FloorTo(int64_t t, int64_t b);

// One sensor's window values of one machine, sorted by window start, no duplicates. The
// values of a block are either all here or none (a block's values missing here are
// represented by its entry in `partials`, or the block is empty); but see Rolling for the
// block holding the first row's t - D.
struct Series {
  std::vector<int64_t> ts;
  std::vector<double> v;
  std::vector<std::pair<int64_t, Agg>> partials;  // (block start, partial), sorted
};

// The left-to-right partial of values at times ts (one block's, in time order).
Agg PartialOf(const int64_t* ts, const double* v, size_t n);

// Evaluates one feature for the rows at window starts `rows` (sorted). For every row, the
// blocks holding t - D and t must be whole in s.ts/s.v, and every block between them
// either whole in s.ts/s.v or in s.partials (or empty). The block holding rows[0] - D
// needs its values after rows[0] - D only: it is no row's middle block. NULL = nullopt.
std::vector<std::optional<double>> Rolling(const Series& s, const std::vector<int64_t>& rows,
                                           Aggregate agg, int64_t duration_ms, int64_t window_ms);
// The same for several aggregates of one series and duration at once (one fold per row for
// all of them): out[a][row], in the order of aggs.
std::vector<std::vector<std::optional<double>>> Rolling(const Series& s, const std::vector<int64_t>& rows,
                                                        const std::vector<Aggregate>& aggs, int64_t duration_ms,
                                                        int64_t window_ms);

}  // namespace vigil::process
