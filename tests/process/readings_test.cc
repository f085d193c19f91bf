#include "process/readings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace vigil::process {
namespace {

using store::StoredReading;

TEST(ReadingsTest, ChunksAreWholeWindowsOfAboutTenMinutes) {
  EXPECT_EQ(ChunkMs(1000), 600'000);
  EXPECT_EQ(ChunkMs(7000) % 7000, 0);
  EXPECT_LE(ChunkMs(7000), 600'000);
  EXPECT_EQ(ChunkMs(3'600'000), 3'600'000);  // a window longer than the target: one window
}

TEST(ReadingsTest, FirstReceivedWinsThenTheSmallerValue) {
  EXPECT_TRUE(WinsOver({0, 9.0, 1}, {0, 1.0, 2}));
  EXPECT_FALSE(WinsOver({0, 1.0, 2}, {0, 9.0, 1}));
  EXPECT_TRUE(WinsOver({0, -1.0, 5}, {0, 1.0, 5}));
  EXPECT_TRUE(WinsOver({0, -2.0, 5}, {0, -1.0, 5}));
  EXPECT_FALSE(WinsOver({0, 1.0, 5}, {0, 1.0, 5}));  // an exact copy wins over nothing
}

TEST(ReadingsTest, MergeCountsNewAndDuplicateAndReportsChangedValuesOnly) {
  std::vector<StoredReading> stored = {{1000, 1.0, 50}, {3000, 3.0, 50}};
  // Sorted by ts, then the winner first.
  const std::vector<StoredReading> fresh = {
      {1000, 7.0, 60},  // received later than the stored copy: a duplicate, no change
      {2000, 2.0, 40}, {2000, 2.5, 45},  // new, and a later copy of it
      {3000, 4.0, 10},  // received earlier than the stored one: replaces it
      {4000, 4.0, 70}};
  MergeCounts counts;
  std::vector<int64_t> changed;
  MergeReadings(&stored, fresh.data(), fresh.size(), &counts, &changed);
  EXPECT_EQ(counts.readings, 2);
  EXPECT_EQ(counts.duplicates, 3);
  EXPECT_EQ(changed, (std::vector<int64_t>{2000, 3000, 4000}));
  ASSERT_EQ(stored.size(), 4u);
  EXPECT_EQ(stored[0].value, 1.0);
  EXPECT_EQ(stored[1].value, 2.0);
  EXPECT_EQ(stored[2].value, 4.0);
  EXPECT_EQ(stored[2].received_ms, 10);
  EXPECT_EQ(stored[3].ts_ms, 4000);
  // An earlier copy with the same value: the stored reading's rank changes, its value not.
  const StoredReading same = {1000, 1.0, 1};
  changed.clear();
  MergeReadings(&stored, &same, 1, &counts, &changed);
  EXPECT_TRUE(changed.empty());
  EXPECT_EQ(stored[0].received_ms, 1);
}

TEST(ReadingsTest, AnySplitIntoBatchesEndsInTheSameChunk) {
  std::mt19937_64 rng(5);
  std::vector<StoredReading> all;
  for (int i = 0; i < 400; ++i) {
    all.push_back({static_cast<int64_t>(rng() % 100) * 10, static_cast<double>(rng() % 7), static_cast<int64_t>(rng() % 50)});
  }
  auto sorted = [](std::vector<StoredReading> v) {
    std::sort(v.begin(), v.end(), [](const StoredReading& a, const StoredReading& b) {
      return a.ts_ms != b.ts_ms ? a.ts_ms < b.ts_ms : WinsOver(a, b);
    });
    return v;
  };
  std::vector<StoredReading> once;
  MergeCounts c1;
  std::vector<int64_t> changed;
  const std::vector<StoredReading> s = sorted(all);
  MergeReadings(&once, s.data(), s.size(), &c1, &changed);
  for (int trial = 0; trial < 20; ++trial) {
    std::shuffle(all.begin(), all.end(), rng);
    std::vector<StoredReading> chunk;
    MergeCounts c2;
    for (size_t at = 0; at < all.size();) {
      const size_t n = std::min(all.size() - at, static_cast<size_t>(1 + rng() % 60));
      const std::vector<StoredReading> part = sorted({all.begin() + at, all.begin() + at + n});
      MergeReadings(&chunk, part.data(), part.size(), &c2, &changed);
      at += n;
    }
    ASSERT_EQ(chunk.size(), once.size());
    for (size_t i = 0; i < once.size(); ++i) {
      EXPECT_EQ(chunk[i].ts_ms, once[i].ts_ms);
      EXPECT_EQ(chunk[i].value, once[i].value);
      EXPECT_EQ(chunk[i].received_ms, once[i].received_ms);
    }
    EXPECT_EQ(c2.readings, c1.readings);
    EXPECT_EQ(c2.readings + c2.duplicates, c1.readings + c1.duplicates);
  }
}

}  // namespace
}  // namespace vigil::process
