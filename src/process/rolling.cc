#include "process/rolling.h"

#include <algorithm>

namespace vigil::process {
namespace {

std::optional<double> Finish(const Agg& a, Aggregate agg) {
  if (a.n == 0) return std::nullopt;
  switch (agg) {
    case Aggregate::kMean: return a.sum / static_cast<double>(a.n);
    case Aggregate::kStd:
      if (a.n < 2) return std::nullopt;
      return std::sqrt(std::max(0.0, a.m2 / static_cast<double>(a.n - 1)));
    case Aggregate::kMin: return a.min;
    case Aggregate::kMax: return a.max;
    case Aggregate::kCount: return static_cast<double>(a.n);
    case Aggregate::kLast: return a.last;
  }
  return std::nullopt;
}

}  // namespace

int64_t FloorTo(int64_t t, int64_t b) { return (t / b - ((t % b != 0) && ((t < 0) != (b < 0)))) * b; }

int64_t BlockMs(int64_t duration_ms, int64_t window_ms) {
  int64_t b = duration_ms / 64 / window_ms * window_ms;
  return std::max(b, std::min(window_ms, duration_ms));
}

Agg PartialOf(const double* v, size_t n) {
  Agg a;
  for (size_t i = 0; i < n; ++i) a.Add(v[i]);
  return a;
}

std::vector<std::optional<double>> Rolling(const Series& s, const std::vector<int64_t>& rows,
                                           Aggregate agg, int64_t duration_ms, int64_t window_ms) {
  std::vector<std::optional<double>> out(rows.size());
  const size_t n = s.ts.size();
  const int64_t block = BlockMs(duration_ms, window_ms);
  // Per value: its block, and the prefix (left fold from the block start) and suffix (right
  // fold to the block end) partials within its block.
  std::vector<int64_t> blk(n);
  for (size_t i = 0; i < n; ++i) blk[i] = FloorTo(s.ts[i], block);
  std::vector<Agg> prefix(n), suffix(n);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && blk[i] == blk[i - 1]) prefix[i] = prefix[i - 1];
    prefix[i].Add(s.v[i]);
  }
  for (size_t k = n; k-- > 0;) {
    Agg a;
    a.Add(s.v[k]);
    if (k + 1 < n && blk[k + 1] == blk[k]) a.Merge(suffix[k + 1]);
    suffix[k] = a;
  }
  // Every block's partial, from the values here and the given partials, by block start.
  std::vector<std::pair<int64_t, Agg>> blocks;
  blocks.reserve(s.partials.size() + n / 8);
  {
    size_t p = 0;
    for (size_t i = 0; i < n; ++i) {
      if (i + 1 < n && blk[i + 1] == blk[i]) continue;
      for (; p < s.partials.size() && s.partials[p].first < blk[i]; ++p) blocks.push_back(s.partials[p]);
      if (p < s.partials.size() && s.partials[p].first == blk[i]) ++p;  // the values win
      blocks.emplace_back(blk[i], prefix[i]);
    }
    for (; p < s.partials.size(); ++p) blocks.push_back(s.partials[p]);
  }
  auto block_at = [&](int64_t start) {
    return std::lower_bound(blocks.begin(), blocks.end(), start,
                            [](const std::pair<int64_t, Agg>& b, int64_t x) { return b.first < x; });
  };
  for (size_t r = 0; r < rows.size(); ++r) {
    const int64_t t = rows[r];
    const int64_t first = FloorTo(t - duration_ms, block), last = FloorTo(t, block);
    Agg acc;
    // First part: values in (t - D, first + B), folded from the block's end.
    const size_t i0 = std::upper_bound(s.ts.begin(), s.ts.end(), t - duration_ms) - s.ts.begin();
    if (i0 < n && blk[i0] == first) acc = suffix[i0];
    // Middle: whole blocks.
    for (auto b = block_at(first + block); b != blocks.end() && b->first < last; ++b) acc.Merge(b->second);
    // Last part: values in [last, t].
    const size_t end = std::upper_bound(s.ts.begin(), s.ts.end(), t) - s.ts.begin();
    if (end > 0 && blk[end - 1] == last) acc.Merge(prefix[end - 1]);
    out[r] = Finish(acc, agg);
  }
  return out;
}

}  // namespace vigil::process
