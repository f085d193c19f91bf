#include "process/rolling.h"

#include <algorithm>
#include <climits>

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
    case Aggregate::kSlope:
      if (a.n < 2 || !(a.m2_t > 0)) return std::nullopt;
      return a.c_tv / a.m2_t;
  }
  return std::nullopt;
}

}  // namespace

int64_t FloorTo(int64_t t, int64_t b) { return (t / b - ((t % b != 0) && ((t < 0) != (b < 0)))) * b; }

int64_t BlockMs(int64_t duration_ms, int64_t window_ms) {
  int64_t b = duration_ms / 64 / window_ms * window_ms;
  return std::max(b, std::min(window_ms, duration_ms));
}

Agg PartialOf(const int64_t* ts, const double* v, size_t n) {
  Agg a;
  for (size_t i = 0; i < n; ++i) a.Add(v[i], ts[i]);
  return a;
}

std::vector<std::optional<double>> Rolling(const Series& s, const std::vector<int64_t>& rows,
                                           Aggregate agg, int64_t duration_ms, int64_t window_ms) {
  return std::move(Rolling(s, rows, std::vector<Aggregate>{agg}, duration_ms, window_ms)[0]);
}

std::vector<std::vector<std::optional<double>>> Rolling(const Series& s, const std::vector<int64_t>& rows,
                                                        const std::vector<Aggregate>& aggs, int64_t duration_ms,
                                                        int64_t window_ms) {
  std::vector<std::vector<std::optional<double>>> out(aggs.size(), std::vector<std::optional<double>>(rows.size()));
  const size_t n = s.ts.size();
  const int64_t block = BlockMs(duration_ms, window_ms);
  auto blk = [&](size_t i) { return FloorTo(s.ts[i], block); };
  auto run_end = [&](size_t i) {  // one past the last value in the block of value i
    const int64_t b = blk(i);
    while (++i < n && blk(i) == b) {}
    return i;
  };
  // Every block's partial, from the values here and the given partials, by block start.
  // A partial of values is folded when a row first needs it: the edge blocks of a batch's
  // rows mostly serve as their first or last part only (at 24 h, ~3,000 values a call).
  struct Block {
    int64_t start;
    Agg agg;
    size_t i = 0, j = 0;  // values [i, j) still to fold into agg
  };
  std::vector<Block> blocks;
  blocks.reserve(s.partials.size() + 16);
  {
    size_t p = 0;
    for (size_t i = 0; i < n;) {
      const size_t j = run_end(i);
      const int64_t b = blk(i);
      for (; p < s.partials.size() && s.partials[p].first < b; ++p) blocks.push_back({s.partials[p].first, s.partials[p].second});
      if (p < s.partials.size() && s.partials[p].first == b) ++p;  // the values win
      blocks.push_back({b, Agg(), i, j});
      i = j;
    }
    for (; p < s.partials.size(); ++p) blocks.push_back({s.partials[p].first, s.partials[p].second});
  }
  auto block_at = [&](int64_t start) {
    return std::lower_bound(blocks.begin(), blocks.end(), start, [](const Block& b, int64_t x) { return b.start < x; });
  };
  auto partial = [&](Block& b) -> const Agg& {
    if (b.i < b.j) b.agg = PartialOf(s.ts.data() + b.i, s.v.data() + b.i, b.j - b.i), b.i = b.j;
    return b.agg;
  };
  // A group's partial: its blocks' partials merged in order (made once per call).
  const int64_t group = block * kGroup;
  std::vector<std::pair<int64_t, Agg>> groups;
  auto group_at = [&](int64_t start) -> const Agg& {
    auto g = std::lower_bound(groups.begin(), groups.end(), start,
                              [](const std::pair<int64_t, Agg>& x, int64_t v) { return x.first < v; });
    if (g != groups.end() && g->first == start) return g->second;
    Agg a;
    for (auto b = block_at(start); b != blocks.end() && b->start < start + group; ++b) a.Merge(partial(*b));
    return groups.insert(g, {start, a})->second;
  };
  // Rows are sorted, so both edges of (t - D, t] only move right: the first part's suffix
  // folds are made one block at a time, from the first value a row needs on (suf, for the
  // values [suf_lo, suf_hi); the values before suf_lo no later row needs either), the last
  // part's prefix fold is carried along (pre, up to value pre_end - 1). Same folds, in the
  // same order, as a suffix and a prefix array over all values, without their memory.
  std::vector<Agg> suf;
  size_t suf_lo = 0, suf_hi = 0, i0 = 0, end = 0, pre_end = 0;
  Agg pre, mid;
  int64_t mid_first = INT64_MIN, mid_last = INT64_MIN;
  for (size_t r = 0; r < rows.size(); ++r) {
    const int64_t t = rows[r];
    const int64_t first = FloorTo(t - duration_ms, block), last = FloorTo(t, block);
    Agg acc;
    // First part: values in (t - D, first + B), folded from the block's end.
    while (i0 < n && s.ts[i0] <= t - duration_ms) ++i0;
    if (i0 < n && blk(i0) == first) {
      if (i0 >= suf_hi) {
        suf_lo = i0;
        suf_hi = run_end(i0);
        suf.resize(suf_hi - suf_lo);
        for (size_t k = suf_hi; k-- > suf_lo;) {
          Agg a;
          a.Add(s.v[k], s.ts[k]);
          if (k + 1 < suf_hi) a.Merge(suf[k + 1 - suf_lo]);
          suf[k - suf_lo] = a;
        }
      }
      acc = suf[i0 - suf_lo];
    }
    // Middle: whole blocks, a whole group of kGroup blocks at a time where one fits, merged
    // into one partial first. Rows with the same first and last blocks (B / W rows in a
    // row) share it: two merges per row instead of about 22.
    if (first != mid_first || last != mid_last) {
      mid = Agg();
      auto b = block_at(first + block);
      for (int64_t p = first + block; p < last;) {
        if (FloorTo(p, group) == p && p + group <= last) {
          mid.Merge(group_at(p));
          p += group;
          b = block_at(p);
        } else {
          if (b != blocks.end() && b->start == p) mid.Merge(partial(*b++));
          p += block;
        }
      }
      mid_first = first, mid_last = last;
    }
    acc.Merge(mid);
    // Last part: values in [last, t].
    while (end < n && s.ts[end] <= t) ++end;
    for (; pre_end < end; ++pre_end) {
      if (pre_end == 0 || blk(pre_end) != blk(pre_end - 1)) pre = Agg();
      pre.Add(s.v[pre_end], s.ts[pre_end]);
    }
    if (end > 0 && blk(end - 1) == last) acc.Merge(pre);
    for (size_t a = 0; a < aggs.size(); ++a) out[a][r] = Finish(acc, aggs[a]);
  }
  return out;
}

}  // namespace vigil::process
