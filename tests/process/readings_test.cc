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

TEST(ReadingsTest, WindowMeanSumsTheWindowsReadingsInTimeOrder) {
  const std::vector<StoredReading> rs = {{999, 5.0, 0}, {1000, 1.0, 0}, {1500, 2.0, 0}, {1999, 6.0, 0}, {2000, 7.0, 0}};
  size_t k = 0;
  double mean = 0;
  ASSERT_TRUE(WindowMean(rs, &k, 1000, 1000, &mean));
  EXPECT_EQ(mean, 3.0);  // [1000, 2000): 1, 2, 6; the ends excluded and included as they should
  EXPECT_EQ(k, 1u);
  EXPECT_FALSE(WindowMean(rs, &k, 3000, 1000, &mean));  // no reading
  k = 0;
  EXPECT_FALSE(WindowMean({}, &k, 0, 1000, &mean));
}

TEST(ReadingsTest, SortMostlySortedEqualsStdSortWhateverTheDisorder) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t n = rng() % 300;
    std::vector<std::pair<int, int>> v(n);
    const int shape = trial % 4;  // sorted, late tail, interleaved runs, random
    for (size_t i = 0; i < n; ++i) {
      int key = static_cast<int>(i);
      if (shape == 1 && rng() % 20 == 0) key = static_cast<int>(rng() % (i + 1));
      if (shape == 2) key = static_cast<int>(i % 7) * 50 + static_cast<int>(i / 7);
      if (shape == 3) key = static_cast<int>(rng() % 50);
      v[i] = {key, static_cast<int>(rng() % 3)};
    }
    auto expected = v;
    std::sort(expected.begin(), expected.end());
    SortMostlySorted(&v, std::less<std::pair<int, int>>(), trial % 5);
    ASSERT_EQ(v, expected) << "trial " << trial;
  }
}

TEST(ReadingsTest, SortRunsEqualsStdSortWhateverTheRuns) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 300; ++trial) {
    const size_t n = rng() % 400;
    const int runs = 1 + static_cast<int>(rng() % 40);  // a machine's channels
    std::vector<std::pair<int, int>> v;
    for (int r = 0; r < runs; ++r) {  // each run sorted by window, the channel its tie-break
      const size_t len = n / static_cast<size_t>(runs) + (trial % 3 == 0 ? rng() % 5 : 0);
      int key = static_cast<int>(rng() % 20);
      for (size_t i = 0; i < len; ++i) v.push_back({key += static_cast<int>(rng() % 3), r});
    }
    if (trial % 10 == 9) std::shuffle(v.begin(), v.end(), rng);  // no runs at all
    auto expected = v;
    std::sort(expected.begin(), expected.end());
    SortRuns(&v, std::less<std::pair<int, int>>());
    ASSERT_EQ(v, expected) << "trial " << trial;
  }
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
