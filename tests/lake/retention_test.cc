#include "lake/retention.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/timestamp.h"
#include "vigil/clock.h"
#include "test_util.h"

namespace vigil::lake {
namespace {

using vigil::testing::ListFiles;
using vigil::testing::TempDir;
using vigil::testing::WriteFileOrDie;

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kNow = 1'760'000'000'000;  // 2025-10-09

// A published archive segment opened at opened_ms, in the partition of that day.
std::string Segment(const std::string& area, int64_t opened_ms, size_t bytes, const std::string& machine = "M1") {
  std::string rel = "date=" + FormatDate(opened_ms) + "/machine_id=" + machine + "/vibration-" +
                    std::to_string(opened_ms) + "-000001.jsonl";
  WriteFileOrDie(area + "/" + rel, std::string(bytes, 'x'));
  return rel;
}

TEST(RetentionTest, MissingAreaIsEmpty) {
  TempDir tmp;
  Result<TrimReport> r = TrimArea(tmp.path() + "/archive", {kDay, 1}, kNow);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->after.files, 0u);
  EXPECT_EQ(r->removed_files, 0u);
}

TEST(RetentionTest, NoLimitsOnlyMeasuresEveryFileIncludingOpenSegments) {
  TempDir tmp;
  const std::string area = tmp.path() + "/archive";
  Segment(area, kNow - 400 * kDay, 10);
  WriteFileOrDie(area + "/date=2025-10-09/machine_id=M1/.vibration-1-2.jsonl.open", "abc");
  Result<TrimReport> r = TrimArea(area, {}, kNow);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->after.files, 2u);
  EXPECT_EQ(r->after.bytes, 13u);
  EXPECT_EQ(r->removed_files, 0u);
}

TEST(RetentionTest, AgeLimitDeletesOlderSegmentsOnlyAndTheirOldEmptyPartitions) {
  TempDir tmp;
  const std::string area = tmp.path() + "/archive";
  Segment(area, kNow - 10 * kDay, 100);
  Segment(area, kNow - 7 * kDay - 1, 100, "M2");
  const std::string kept = Segment(area, kNow - 7 * kDay, 100);  // exactly max_age old: kept
  const std::string fresh = Segment(area, kNow - 1000, 100);
  Result<TrimReport> r = TrimArea(area, {7 * kDay, 0}, kNow);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->removed_files, 2u);
  EXPECT_EQ(r->removed_bytes, 200u);
  EXPECT_EQ(r->after.bytes, 200u);
  EXPECT_EQ(ListFiles(area), (std::vector<std::string>{kept, fresh}));
  EXPECT_FALSE(std::filesystem::exists(area + "/date=" + FormatDate(kNow - 10 * kDay)));
}

TEST(RetentionTest, SizeLimitDeletesOldestFirstUntilUnderTheLimit) {
  TempDir tmp;
  const std::string area = tmp.path() + "/quarantine";
  Segment(area, kNow - 3 * kDay, 100);
  Segment(area, kNow - 2 * kDay, 100);
  const std::string b = Segment(area, kNow - 1 * kDay, 100);
  const std::string c = Segment(area, kNow - 1, 100);
  Result<TrimReport> r = TrimArea(area, {0, 250}, kNow);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->removed_files, 2u);
  EXPECT_EQ(r->after.bytes, 200u);
  EXPECT_EQ(ListFiles(area), (std::vector<std::string>{b, c}));
}

// Sizes are summed by the hour a segment was opened (the area is not held in memory):
// within the hour where the limit falls, the segments still go oldest first; every older
// hour goes whole, and an age limit takes its own (longer) prefix.
TEST(RetentionTest, SizeLimitGoesOldestFirstWithinAnHourAndAgeTakesTheLongerPrefix) {
  TempDir tmp;
  const std::string area = tmp.path() + "/archive";
  constexpr int64_t kHour = 3'600'000;
  const int64_t hour = (kNow / kHour - 2) * kHour;
  Segment(area, hour - 10 * 60'000, 100, "M0");  // an older hour
  std::vector<std::string> in_hour;
  for (int i = 4; i >= 0; --i) in_hour.insert(in_hour.begin(), Segment(area, hour + i * 60'000, 100, "M" + std::to_string(i + 1)));
  Result<TrimReport> r = TrimArea(area, {0, 250}, kNow);  // 600 bytes: 4 segments go
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->removed_files, 4u);
  EXPECT_EQ(r->after.bytes, 200u);
  std::vector<std::string> left = ListFiles(area);
  EXPECT_EQ(left, (std::vector<std::string>{in_hour[3], in_hour[4]}));
  // Under the size limit, the age limit still takes what is older than it.
  r = TrimArea(area, {kNow - (hour + 4 * 60'000), 1000}, kNow);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->removed_files, 1u);
  EXPECT_EQ(ListFiles(area), (std::vector<std::string>{in_hour[4]}));
}

// An hour with more segments than it sorts at a time is split until the part where the
// limit falls is small enough: the same segments go.
TEST(RetentionTest, ACrowdedHourIsSplitAndTheSameSegmentsGo) {
  constexpr int64_t kHour = 3'600'000;
  const int64_t hour = (kNow / kHour - 2) * kHour;
  std::vector<std::string> kept;
  for (size_t max_sorted : {size_t{2}, size_t{1000}}) {
    TempDir tmp;
    const std::string area = tmp.path() + "/archive";
    std::vector<std::string> all;
    for (int i = 0; i < 40; ++i) all.push_back(Segment(area, hour + i * 7'919, 10 + i % 3, "M" + std::to_string(i % 5)));
    Result<TrimReport> r = TrimArea(area, {0, 200}, kNow, max_sorted);
    ASSERT_TRUE(r.has_value());
    EXPECT_LE(r->after.bytes, 200u);
    EXPECT_GT(r->after.bytes + 12, 200u);  // no more than needed went
    if (kept.empty()) kept = ListFiles(area);
    else EXPECT_EQ(ListFiles(area), kept) << max_sorted;
  }
  EXPECT_FALSE(kept.empty());
}

// Files it may not delete (a big segment being written) do not count against max_bytes:
// the published segments are under it, so none goes.
TEST(RetentionTest, SizeLimitCountsOnlyDeletableSegments) {
  TempDir tmp;
  const std::string area = tmp.path() + "/archive";
  const std::string today = "date=" + FormatDate(kNow) + "/machine_id=M1/";
  WriteFileOrDie(area + "/" + today + ".vibration-1-1.jsonl.open", std::string(1000, 'x'));
  const std::string a = Segment(area, kNow - 2 * kDay, 100);
  const std::string b = Segment(area, kNow - 1 * kDay, 100);
  Result<TrimReport> r = TrimArea(area, {0, 250}, kNow);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->removed_files, 0u);
  EXPECT_EQ(r->after.bytes, 1200u);
  // Over the limit by the published segments alone: only the oldest goes.
  r = TrimArea(area, {0, 150}, kNow);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->removed_files, 1u);
  EXPECT_FALSE(std::filesystem::exists(area + "/" + a));
  EXPECT_TRUE(std::filesystem::exists(area + "/" + b));
}

TEST(RetentionTest, HiddenAndForeignFilesAreNeverDeletedAndRecentPartitionsStay) {
  TempDir tmp;
  const std::string area = tmp.path() + "/archive";
  const std::string today = "date=" + FormatDate(kNow) + "/machine_id=M1/";
  WriteFileOrDie(area + "/" + today + ".vibration-1-1.jsonl.open", std::string(500, 'x'));
  WriteFileOrDie(area + "/notes.txt", std::string(500, 'x'));
  const std::string seg = Segment(area, kNow - 1000, 10);
  Result<TrimReport> r = TrimArea(area, {0, 1}, kNow);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->removed_files, 1u);
  EXPECT_FALSE(std::filesystem::exists(area + "/" + seg));
  EXPECT_TRUE(std::filesystem::is_directory(area + "/" + today)) << "today's partition is kept for the writers";
  EXPECT_EQ(r->after.files, 2u);
}

TEST(RetentionTest, NamesWithoutATimeFallBackToTheFileTime) {
  TempDir tmp;
  const std::string area = tmp.path() + "/archive";
  const std::string path = area + "/date=2020-01-01/machine_id=M1/imported.jsonl";
  WriteFileOrDie(path, "x");
  std::filesystem::last_write_time(path, std::filesystem::file_time_type::clock::now() - std::chrono::hours(24 * 40));
  Result<TrimReport> r = TrimArea(area, {30 * kDay, 0}, SystemClock::Instance().NowMs());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->removed_files, 1u);
}

}  // namespace
}  // namespace vigil::lake
