#include "model/dataset.h"

#include <gtest/gtest.h>

namespace vigil::model {
namespace {

constexpr int64_t kH = 7LL * 86'400'000;

TEST(TimeSplitTest, RowsWithinOneHorizonBeforeTheSplitNeverTrain) {
  // One row per hour for 60 days.
  std::vector<int64_t> t;
  for (int64_t h = 0; h < 60 * 24; ++h) t.push_back(h * 3'600'000);
  Split s = TimeSplit(t, 0.25, kH);
  EXPECT_EQ(s.split_ms, t.back() - (t.back() * 25 + 50) / 100);
  ASSERT_FALSE(s.train.empty());
  ASSERT_FALSE(s.test.empty());
  for (size_t i : s.train) EXPECT_LT(t[i] + kH, s.split_ms) << "leak: row " << t[i] << " trains";
  for (size_t i : s.test) EXPECT_GE(t[i], s.split_ms);
  // Every row is in one set or in the purge gap, none in both.
  size_t gap = 0;
  for (int64_t x : t) gap += (x < s.split_ms && x + kH >= s.split_ms);
  EXPECT_EQ(s.train.size() + s.test.size() + gap, t.size());
  EXPECT_EQ(gap, 7u * 24);
}

TEST(TimeSplitTest, EdgeCases) {
  EXPECT_TRUE(TimeSplit({}, 0.25, kH).test.empty());
  Split one = TimeSplit({5}, 0.25, kH);
  EXPECT_EQ(one.test.size(), 1u);  // a single instant is all test period
  EXPECT_TRUE(one.train.empty());
  Split short_range = TimeSplit({0, 1000, 2000}, 0.5, kH);  // range shorter than the horizon
  EXPECT_TRUE(short_range.train.empty());
}

TEST(IsoZoneScoreTest, ZoneBoundariesAreInclusiveBelow) {
  EXPECT_EQ(IsoZoneScore(std::nullopt), 0);
  EXPECT_EQ(IsoZoneScore(4.5), 0);
  EXPECT_EQ(IsoZoneScore(4.51), 1.0 / 3);
  EXPECT_EQ(IsoZoneScore(7.1), 1.0 / 3);
  EXPECT_EQ(IsoZoneScore(11.2), 2.0 / 3);
  EXPECT_EQ(IsoZoneScore(11.21), 1);
}

TEST(RobustZTest, MedianAndMad) {
  // median 3, |dev| = {2,1,0,1,2} -> MAD 1
  EXPECT_NEAR(RobustZ(6, {1, 2, 3, 4, 5}), 3 / 1.4826, 1e-12);
  EXPECT_NEAR(RobustZ(0, {1, 2, 3, 4, 5}), -3 / 1.4826, 1e-12);
  // Even count: median 2.5, |dev| = {1.5, .5, .5, 1.5} -> MAD 1.
  EXPECT_NEAR(RobustZ(2.5, {1, 2, 3, 4}), 0, 1e-12);
  EXPECT_NEAR(RobustZ(4.5, {4, 1, 3, 2}), 2 / 1.4826, 1e-12);
  // An outlier in the baseline barely moves it.
  EXPECT_NEAR(RobustZ(6, {1, 2, 3, 4, 5, 1000}), RobustZ(6, {1, 2, 3, 4, 5, 6}), 1.0);
}

TEST(RobustZTest, EmptyAndFlatBaselines) {
  EXPECT_EQ(RobustZ(42, {}), 0);
  EXPECT_EQ(RobustZ(2, {2, 2, 2}), 0);
  EXPECT_EQ(RobustZ(3, {2, 2, 2}), 1e6);
  EXPECT_EQ(RobustZ(1, {2, 2, 2}), -1e6);
}

}  // namespace
}  // namespace vigil::model
