#include "process/rolling.h"

#include <algorithm>

namespace vigil::process {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::optional<double> Finish(const Agg& a, Aggregate agg, double last) {
  if (a.n == 0) return std::nullopt;
  switch (agg) {
    case Aggregate::kMean: return a.sum / static_cast<double>(a.n);
    case Aggregate::kStd:
      if (a.n < 2) return std::nullopt;
      return std::sqrt(std::max(0.0, a.m2 / static_cast<double>(a.n - 1)));
    case Aggregate::kMin: return a.min;
    case Aggregate::kMax: return a.max;
    case Aggregate::kCount: return static_cast<double>(a.n);
    case Aggregate::kLast: return last;
  }
  return std::nullopt;
}

}  // namespace

int64_t BlockMs(int64_t duration_ms, int64_t window_ms) {
  int64_t b = duration_ms / 16 / window_ms * window_ms;
  return std::max(b, std::min(window_ms, duration_ms));
}

std::vector<std::optional<double>> Rolling(const Series& s, const std::vector<int64_t>& rows,
                                           Aggregate agg, int64_t duration_ms, int64_t window_ms) {
  std::vector<std::optional<double>> out(rows.size());
  const size_t n = s.ts.size();
  if (n == 0) return out;
  const int64_t block = BlockMs(duration_ms, window_ms);
  // Block index of every value, and the prefix/suffix partials within its block.
  std::vector<int64_t> blk(n);
  for (size_t i = 0; i < n; ++i) blk[i] = FloorDiv(s.ts[i], block);
  std::vector<Agg> prefix(n), suffix(n);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && blk[i] == blk[i - 1]) prefix[i] = prefix[i - 1];
    prefix[i].Add(s.v[i]);
  }
  for (size_t k = n; k-- > 0;) {
    // Suffix in time order too: the partial from i to the block end is built by adding
    // values left to right starting at i, so fold the next suffix into a fresh one.
    Agg a;
    a.Add(s.v[k]);
    if (k + 1 < n && blk[k + 1] == blk[k]) a.Merge(suffix[k + 1]);
    suffix[k] = a;
  }
  // Whole-block partials, indexed by block start position in the value arrays.
  std::vector<size_t> block_first;  // index of the first value of each distinct block
  for (size_t i = 0; i < n; ++i) {
    if (i == 0 || blk[i] != blk[i - 1]) block_first.push_back(i);
  }
  std::vector<size_t> block_last(block_first.size());
  for (size_t b = 0; b < block_first.size(); ++b) {
    block_last[b] = (b + 1 < block_first.size() ? block_first[b + 1] : n) - 1;
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    const int64_t t = rows[r];
    // Values with ts in (t - D, t].
    size_t i0 = std::upper_bound(s.ts.begin(), s.ts.end(), t - duration_ms) - s.ts.begin();
    size_t end = std::upper_bound(s.ts.begin(), s.ts.end(), t) - s.ts.begin();
    if (i0 >= end) continue;
    const size_t i1 = end - 1;
    Agg acc;
    if (blk[i0] == blk[i1]) {
      // One block: the range is a prefix or a suffix of it when D >= B; else (D < W
      // cannot happen: D >= W is checked) fall back to adding in time order.
      if (i0 == 0 || blk[i0 - 1] != blk[i0]) acc = prefix[i1];
      else if (i1 + 1 == n || blk[i1 + 1] != blk[i1]) acc = suffix[i0];
      else for (size_t i = i0; i <= i1; ++i) acc.Add(s.v[i]);
    } else {
      acc = suffix[i0];
      size_t b = std::upper_bound(block_first.begin(), block_first.end(), i0) - block_first.begin();
      for (; b < block_first.size() && block_last[b] < i1; ++b) acc.Merge(prefix[block_last[b]]);
      acc.Merge(prefix[i1]);
    }
    out[r] = Finish(acc, agg, s.v[i1]);
  }
  return out;
}

}  // namespace vigil::process
