#include "process/rolling.h"

#include <gtest/gtest.h>

#include <random>

namespace vigil::process {
namespace {

constexpr int64_t kW = 1000;
constexpr int64_t kH = 3'600'000;

Series Make(std::vector<std::pair<int64_t, double>> pts) {
  Series s;
  for (auto [t, v] : pts) s.ts.push_back(t), s.v.push_back(v);
  return s;
}

std::optional<double> One(const Series& s, int64_t t, Aggregate a, int64_t d) {
  return Rolling(s, {t}, a, d, kW)[0];
}

TEST(RollingTest, RightClosedIntervalEdges) {
  // Windows at 0, D and 2D: the row at D sees (0, D]: the window exactly D before is out.
  Series s = Make({{0, 1.0}, {kH, 2.0}, {2 * kH, 4.0}});
  EXPECT_EQ(One(s, kH, Aggregate::kCount, kH), 1.0);
  EXPECT_EQ(One(s, kH, Aggregate::kMean, kH), 2.0);
  EXPECT_EQ(One(s, kH - 1, Aggregate::kCount, kH), 1.0);  // (-1, kH - 1] holds window 0
  EXPECT_EQ(One(s, 2 * kH - 1, Aggregate::kCount, kH), 1.0);
  EXPECT_EQ(One(s, 2 * kH, Aggregate::kMax, kH), 4.0);
}

TEST(RollingTest, EveryAggregate) {
  Series s = Make({{0, 3.0}, {1000, 1.0}, {2000, 2.0}, {5000, 6.0}});
  const int64_t t = 5000, d = 10'000;
  EXPECT_DOUBLE_EQ(*One(s, t, Aggregate::kMean, d), 3.0);
  EXPECT_DOUBLE_EQ(*One(s, t, Aggregate::kStd, d), std::sqrt(((0.0) + 4 + 1 + 9) / 3));
  EXPECT_EQ(*One(s, t, Aggregate::kMin, d), 1.0);
  EXPECT_EQ(*One(s, t, Aggregate::kMax, d), 6.0);
  EXPECT_EQ(*One(s, t, Aggregate::kCount, d), 4.0);
  EXPECT_EQ(*One(s, t, Aggregate::kLast, d), 6.0);
  EXPECT_EQ(*One(s, 2500, Aggregate::kLast, d), 2.0);  // skips missing windows
}

TEST(RollingTest, StdNeedsTwoValuesAndEmptyIsNull) {
  Series s = Make({{0, 3.0}, {10'000, 5.0}});
  EXPECT_FALSE(One(s, 0, Aggregate::kStd, 5000).has_value());
  EXPECT_EQ(*One(s, 0, Aggregate::kCount, 5000), 1.0);
  EXPECT_FALSE(One(s, 7000, Aggregate::kMean, 5000).has_value());  // (2000, 7000] is empty
  EXPECT_FALSE(One(Series{}, 0, Aggregate::kMax, 5000).has_value());
}

// The naive definition, added in time order.
std::optional<double> Naive(const Series& s, int64_t t, Aggregate a, int64_t d) {
  std::vector<double> v, h;
  for (size_t i = 0; i < s.ts.size(); ++i) {
    if (s.ts[i] > t - d && s.ts[i] <= t) v.push_back(s.v[i]), h.push_back(Hours(s.ts[i] - t));
  }
  if (v.empty()) return std::nullopt;
  double sum = 0;
  for (double x : v) sum += x;
  double mean = sum / v.size();
  switch (a) {
    case Aggregate::kMean: return mean;
    case Aggregate::kStd: {
      if (v.size() < 2) return std::nullopt;
      double ss = 0;
      for (double x : v) ss += (x - mean) * (x - mean);
      return std::sqrt(ss / (v.size() - 1));
    }
    case Aggregate::kMin: return *std::min_element(v.begin(), v.end());
    case Aggregate::kMax: return *std::max_element(v.begin(), v.end());
    case Aggregate::kCount: return static_cast<double>(v.size());
    case Aggregate::kLast: return v.back();
    case Aggregate::kSlope: {  // two passes: centred sums
      if (v.size() < 2) return std::nullopt;
      double ht = 0;
      for (double x : h) ht += x;
      ht /= h.size();
      double sxy = 0, sxx = 0;
      for (size_t i = 0; i < v.size(); ++i) sxy += (h[i] - ht) * (v[i] - mean), sxx += (h[i] - ht) * (h[i] - ht);
      return sxy / sxx;
    }
  }
  return std::nullopt;
}

TEST(RollingTest, MatchesTheDefinitionOnRandomSparseSeries) {
  std::mt19937_64 rng(7);
  Series s;
  int64_t t = 0;
  for (int i = 0; i < 3000; ++i) {
    t += (rng() % 10 == 0) ? 1000 * (1 + rng() % 600) : 1000;  // gaps up to 10 min
    s.ts.push_back(t);
    s.v.push_back(70.0 + std::uniform_real_distribution<double>(-0.05, 0.05)(rng));  // tiny variance on a big mean
  }
  std::vector<int64_t> rows(s.ts.begin() + 1500, s.ts.end());
  for (Aggregate a : {Aggregate::kMean, Aggregate::kStd, Aggregate::kMin, Aggregate::kMax, Aggregate::kCount, Aggregate::kLast,
                      Aggregate::kSlope}) {
    for (int64_t d : {int64_t{5000}, int64_t{600'000}, int64_t{3'600'000}}) {
      auto got = Rolling(s, rows, a, d, kW);
      for (size_t r = 0; r < rows.size(); ++r) {
        auto want = Naive(s, rows[r], a, d);
        ASSERT_EQ(got[r].has_value(), want.has_value()) << r;
        if (want) {
          ASSERT_NEAR(*got[r], *want, 1e-9 * std::max(1.0, std::abs(*want))) << AggregateName(a) << " d=" << d;
        }
      }
    }
  }
}

TEST(RollingTest, SlopeIsTheTrendPerHourAndNullBelowTwoValues) {
  Series s = Make({{1'760'000'000'000, 10.0}, {1'760'001'800'000, 11.5}, {1'760'003'600'000, 12.0}, {1'760'005'400'000, 12.5},
                   {1'760'007'200'000, 14.0}});
  const int64_t last = s.ts.back();
  // All five, at 0, 0.5, 1, 1.5, 2 h: sum((h - 1)(v - 12)) / sum((h - 1)^2) = 4.5 / 2.5.
  EXPECT_NEAR(*One(s, last, Aggregate::kSlope, 3 * kH), 1.8, 1e-9);
  EXPECT_FALSE(One(s, s.ts[0], Aggregate::kSlope, kH).has_value());    // one value
  EXPECT_NEAR(*One(s, s.ts[1], Aggregate::kSlope, kH), 3.0, 1e-9);      // (10 -> 11.5) in half an hour
  Series flat = Make({{0, 5.0}, {1000, 5.0}, {2000, 5.0}});
  EXPECT_EQ(*One(flat, 2000, Aggregate::kSlope, kH), 0.0);
  // A second apart at today's epoch: exact, as the times are relative to the first value.
  Series near = Make({{1'760'000'000'000, 1.0}, {1'760'000'001'000, 1.5}});
  EXPECT_NEAR(*One(near, near.ts.back(), Aggregate::kSlope, kH), 1800.0, 1e-9);
  Series down = Make({{0, 3.0}, {3'600'000, 1.0}});
  EXPECT_NEAR(*One(down, 3'600'000, Aggregate::kSlope, 2 * kH), -2.0, 1e-12);
}

TEST(RollingTest, SeveralAggregatesAtOnceGiveTheBitsOfOneAtATime) {
  std::mt19937_64 rng(11);
  Series s;
  for (int64_t t = 0; t < 2'000'000; t += 1000) {
    if (rng() % 7 == 0) continue;
    s.ts.push_back(t);
    s.v.push_back(std::uniform_real_distribution<double>(-3, 3)(rng));
  }
  const std::vector<int64_t> rows(s.ts.begin() + 100, s.ts.end());
  const std::vector<Aggregate> aggs = {Aggregate::kStd, Aggregate::kMean, Aggregate::kLast, Aggregate::kMax,
                                       Aggregate::kMin, Aggregate::kCount, Aggregate::kSlope};
  const auto all = Rolling(s, rows, aggs, 600'000, kW);
  ASSERT_EQ(all.size(), aggs.size());
  for (size_t a = 0; a < aggs.size(); ++a) EXPECT_EQ(all[a], Rolling(s, rows, aggs[a], 600'000, kW)) << AggregateName(aggs[a]);
  EXPECT_TRUE(Rolling(s, rows, std::vector<Aggregate>{}, 600'000, kW).empty());
}

TEST(RollingTest, ResultIsAPureFunctionOfTheValuesInRange) {
  // The same row computed from series that start at different points (as different
  // batches load them) gives the same bits.
  std::mt19937_64 rng(11);
  Series full;
  for (int i = 0; i < 20'000; ++i) {
    full.ts.push_back(i * 1000);
    full.v.push_back(std::uniform_real_distribution<double>(0, 10)(rng));
  }
  const int64_t d = 5 * 3'600'000 / 2;  // 2.5 h
  const int64_t b = BlockMs(d, kW);
  std::vector<int64_t> rows = {full.ts.back(), full.ts.back() - 7000};
  auto ref = Rolling(full, rows, Aggregate::kStd, d, kW);
  auto ref_mean = Rolling(full, rows, Aggregate::kMean, d, kW);
  for (int64_t start : {int64_t{0}, b, 3 * b, rows.back() - d - b - (rows.back() - d - b) % b}) {
    Series part;
    for (size_t i = 0; i < full.ts.size(); ++i) {
      if (full.ts[i] >= start) part.ts.push_back(full.ts[i]), part.v.push_back(full.v[i]);
    }
    auto got = Rolling(part, rows, Aggregate::kStd, d, kW);
    auto got_mean = Rolling(part, rows, Aggregate::kMean, d, kW);
    for (size_t r = 0; r < rows.size(); ++r) {
      EXPECT_EQ(*got[r], *ref[r]) << start;  // bit-identical
      EXPECT_EQ(*got_mean[r], *ref_mean[r]) << start;
    }
  }
}

TEST(RollingTest, LargeFrameMaxIsRight) {
  // SQLite 3.40.1 returns wrong window max()/min() once a frame holds a few hundred rows;
  // a 5 h frame at 1 s holds 18,000. Ours must be exact.
  Series s;
  for (int i = 0; i < 40'000; ++i) s.ts.push_back(i * 1000), s.v.push_back(i == 1234 ? 99.0 : (i % 97) * 0.01);
  const int64_t d = 5 * 3'600'000;
  EXPECT_EQ(*One(s, 1234 * 1000 + d - 1000, Aggregate::kMax, d), 99.0);
  EXPECT_EQ(*One(s, 1234 * 1000 + d, Aggregate::kMax, d), 0.96);  // just left the frame
  EXPECT_EQ(*One(s, 30'000 * 1000, Aggregate::kCount, d), 18'000.0);
}

}  // namespace
}  // namespace vigil::process

namespace vigil::process {
namespace {

TEST(RollingTest, EdgeBlocksPlusStoredPartialsGiveTheSameBitsAsEveryValue) {
  // What a batch loads: the blocks holding t - D and t, and the partials of the blocks
  // between (as the store keeps them). The result must be bit-identical to the one from
  // every value, for every aggregate, with gaps in the data too.
  std::mt19937_64 rng(23);
  Series full;
  for (int i = 0; i < 30'000; ++i) {
    if (i % 1000 < 300 && i > 5000) continue;  // missing windows, whole blocks of them too
    full.ts.push_back(i * kW);
    full.v.push_back(std::uniform_real_distribution<double>(-5, 10)(rng));
  }
  const int64_t d = 3 * 3'600'000;  // 3 h
  const int64_t b = BlockMs(d, kW);
  std::vector<int64_t> rows;
  for (int64_t t = 20'000 * kW; t < 20'300 * kW; t += 7 * kW) rows.push_back(t);
  // The left edge from its block's start (what a batch loads), and from the first row's
  // t - D only: the block holding it is no row's middle block, only its suffix is read.
  for (const bool trimmed : {false, true}) {
    Series edges;
    auto in = [&](int64_t ts, int64_t lo, int64_t hi) { return ts >= lo && ts < hi; };
    const int64_t a0 = trimmed ? rows.front() - d : FloorTo(rows.front() - d, b), a1 = FloorTo(rows.back() - d, b) + b;
    if (trimmed) {
      ASSERT_LT(FloorTo(rows.front() - d, b), a0 - 100 * kW);  // its block lacks a part
    }
    ASSERT_GE(a1 - FloorTo(rows.front() - d, b), 2 * b);  // the next block is a middle one
    const int64_t c0 = FloorTo(rows.front(), b), c1 = rows.back() + 1;
    for (size_t i = 0; i < full.ts.size(); ++i) {
      if (in(full.ts[i], a0, a1) || in(full.ts[i], c0, c1)) edges.ts.push_back(full.ts[i]), edges.v.push_back(full.v[i]);
    }
    for (int64_t k = a1; k < c0; k += b) {
      std::vector<int64_t> times;
      std::vector<double> vals;
      for (size_t i = 0; i < full.ts.size(); ++i) {
        if (in(full.ts[i], k, k + b)) times.push_back(full.ts[i]), vals.push_back(full.v[i]);
      }
      if (!vals.empty()) edges.partials.emplace_back(k, PartialOf(times.data(), vals.data(), vals.size()));
    }
    ASSERT_LT(edges.ts.size(), full.ts.size() / 3);  // most of the range came as partials
    for (Aggregate a : {Aggregate::kMean, Aggregate::kStd, Aggregate::kMin, Aggregate::kMax, Aggregate::kCount, Aggregate::kLast,
                        Aggregate::kSlope}) {
      auto want = Rolling(full, rows, a, d, kW);
      auto got = Rolling(edges, rows, a, d, kW);
      for (size_t r = 0; r < rows.size(); ++r) {
        ASSERT_EQ(got[r].has_value(), want[r].has_value());
        if (want[r]) {
          EXPECT_EQ(*got[r], *want[r]) << AggregateName(a) << " row " << r << (trimmed ? " trimmed" : "");
          auto naive = Naive(full, rows[r], a, d);
          ASSERT_NEAR(*got[r], *naive, 1e-9 * std::max(1.0, std::abs(*naive)));
        }
      }
    }
  }
}

}  // namespace
}  // namespace vigil::process
