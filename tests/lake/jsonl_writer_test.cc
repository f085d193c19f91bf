#include "lake/jsonl_writer.h"

#include <gtest/gtest.h>

#include "lake/fault_fs.h"
#include "lake/paths.h"
#include "test_util.h"

namespace vigil::lake {
namespace {

using vigil::testing::FaultyFileSystem;
using vigil::testing::ListFiles;
using vigil::testing::ReadAllLines;
using vigil::testing::TempDir;

constexpr int64_t kT0 = 1760518800000;

class LakeWriterTest : public ::testing::Test {
 protected:
  LakeConfig Cfg() {
    LakeConfig c;
    c.segment_max_bytes = 1000;
    c.segment_max_age_ms = 60'000;
    c.fsync = FsyncPolicy::kInterval;
    c.fsync_interval_ms = 1000;
    return c;
  }
  TempDir tmp_;
  FakeClock clock_{kT0};
  FaultyFileSystem fs_;
};

std::string Line(int i) { return "{\"i\":" + std::to_string(i) + "}\n"; }

size_t CountPublished(const std::vector<std::string>& files) {
  size_t n = 0;
  for (const auto& f : files) n += f.find("/.") == std::string::npos && f.ends_with(".jsonl");
  return n;
}

TEST_F(LakeWriterTest, LinesWaitInTheLogUntilPublished) {
  LakeWriter w(Cfg(), tmp_.path(), clock_, fs_);
  ASSERT_OK(w.AppendRaw("2025-10-15", "M1", "vibration", Line(1)));
  EXPECT_EQ(ListFiles(tmp_.path()), std::vector<std::string>{".wal/1760518800000.log"});
  EXPECT_EQ(w.Stats().open_segments, 1u);
  ASSERT_OK(w.Close());
  EXPECT_EQ(ListFiles(tmp_.path()),
            std::vector<std::string>{"raw/date=2025-10-15/machine_id=M1/vibration-1760518800000-000001.jsonl"});
  EXPECT_EQ(ReadAllLines(tmp_.path()), std::vector<std::string>{"{\"i\":1}"});
  EXPECT_EQ(w.Stats().segments_published, 1u);
}

TEST_F(LakeWriterTest, PartitionsByDateMachineAndKind) {
  LakeWriter w(Cfg(), tmp_.path(), clock_, fs_);
  ASSERT_OK(w.AppendRaw("2025-10-15", "M1", "vibration", Line(1)));
  ASSERT_OK(w.AppendRaw("2025-10-15", "M1", "temperature", Line(2)));
  ASSERT_OK(w.AppendRaw("2025-10-16", "M1", "vibration", Line(3)));
  ASSERT_OK(w.AppendRaw("2025-10-15", "M1", "vibration", Line(4)));
  ASSERT_OK(w.AppendQuarantine("2025-10-17", Line(5)));
  ASSERT_OK(w.Close());
  EXPECT_EQ(CountPublished(ListFiles(tmp_.path())), 4u);
  EXPECT_EQ(ReadAllLines(tmp_.path(), "raw/date=2025-10-15/machine_id=M1/vibration-"),
            (std::vector<std::string>{"{\"i\":1}", "{\"i\":4}"}));
  EXPECT_EQ(ReadAllLines(tmp_.path(), "raw/date=2025-10-15/machine_id=M1/temperature-").size(), 1u);
  EXPECT_EQ(ReadAllLines(tmp_.path(), "raw/date=2025-10-16/").size(), 1u);
  EXPECT_EQ(ReadAllLines(tmp_.path(), "quarantine/date=2025-10-17/").size(), 1u);
}

TEST_F(LakeWriterTest, PublishesAtSizeLimit) {
  LakeWriter w(Cfg(), tmp_.path(), clock_, fs_);
  std::string line(300, 'x');
  line.back() = '\n';
  for (int i = 0; i < 7; ++i) ASSERT_OK(w.AppendRaw("2025-10-15", "M1", "vibration", line));
  // The log reaches 1000 bytes at the 4th line: the next Tick publishes it; the other 3
  // wait in a new log.
  EXPECT_EQ(CountPublished(ListFiles(tmp_.path())), 0u);
  ASSERT_OK(w.Tick());
  std::vector<std::string> files = ListFiles(tmp_.path());
  EXPECT_EQ(CountPublished(files), 1u);
  EXPECT_EQ(files.size(), 2u);
  EXPECT_EQ(w.Stats().segments_published, 1u);
  ASSERT_OK(w.Close());
  EXPECT_EQ(CountPublished(ListFiles(tmp_.path())), 2u);
  EXPECT_EQ(ReadAllLines(tmp_.path()).size(), 7u);
}

// Many small streams: the log's own size limit publishes it.
TEST_F(LakeWriterTest, PublishesAtLogSizeLimit) {
  LakeConfig c = Cfg();
  c.log_max_bytes = 2000;
  LakeWriter w(c, tmp_.path(), clock_, fs_);
  std::string line(200, 'x');
  line.back() = '\n';
  for (int m = 0; m < 7; ++m) ASSERT_OK(w.AppendRaw("2025-10-15", "M" + std::to_string(m), "vibration", line));
  ASSERT_OK(w.Tick());
  EXPECT_EQ(CountPublished(ListFiles(tmp_.path())), 0u);  // 7 x (200 + key line) < 2000
  for (int m = 7; m < 10; ++m) ASSERT_OK(w.AppendRaw("2025-10-15", "M" + std::to_string(m), "vibration", line));
  ASSERT_OK(w.Tick());
  EXPECT_EQ(CountPublished(ListFiles(tmp_.path())), 9u);  // the 9th line filled the log (2205 bytes)
  ASSERT_OK(w.Close());
  EXPECT_EQ(CountPublished(ListFiles(tmp_.path())), 10u);
}

// Without a Tick (an import), the append that fills a second log publishes both.
TEST_F(LakeWriterTest, WithoutTickTheSecondFullLogIsPublishedByTheAppend) {
  LakeWriter w(Cfg(), tmp_.path(), clock_, fs_);
  std::string line(500, 'x');
  line.back() = '\n';
  for (int i = 0; i < 4; ++i) ASSERT_OK(w.AppendRaw("2025-10-15", "M1", "vibration", line));
  EXPECT_EQ(CountPublished(ListFiles(tmp_.path())), 2u);
  EXPECT_EQ(ListFiles(tmp_.path()).size(), 2u);  // and no log left
  ASSERT_OK(w.Close());
}

TEST_F(LakeWriterTest, PublishesAtAgeLimitOnTick) {
  LakeWriter w(Cfg(), tmp_.path(), clock_, fs_);
  ASSERT_OK(w.AppendRaw("2025-10-15", "M1", "vibration", Line(1)));
  clock_.Advance(59'999);
  ASSERT_OK(w.Tick());
  EXPECT_EQ(CountPublished(ListFiles(tmp_.path())), 0u);
  clock_.Advance(1);
  ASSERT_OK(w.Tick());
  EXPECT_EQ(CountPublished(ListFiles(tmp_.path())), 1u);
  EXPECT_EQ(w.Stats().open_segments, 0u);
  ASSERT_OK(w.AppendRaw("2025-10-15", "M1", "vibration", Line(2)));  // a new log
  ASSERT_OK(w.Close());
  EXPECT_EQ(CountPublished(ListFiles(tmp_.path())), 2u);
}

// A wide plant: thousands of interleaved streams take one file while written, and each
// stream becomes exactly one segment, its lines in arrival order.
TEST_F(LakeWriterTest, InterleavedStreamsShareOneLogAndSplitIntoOneSegmentEach) {
  LakeConfig c = Cfg();
  c.segment_max_bytes = 1 << 30;
  LakeWriter w(c, tmp_.path(), clock_, fs_);
  constexpr int kMachines = 100, kSensors = 30, kSteps = 3;
  for (int t = 0; t < kSteps; ++t) {
    for (int m = 0; m < kMachines; ++m) {
      for (int k = 0; k < kSensors; ++k) {
        ASSERT_OK(w.AppendRaw("2025-10-15", "M" + std::to_string(m), "s" + std::to_string(k),
                              Line(t * 100000 + m * 100 + k)));
      }
    }
  }
  EXPECT_EQ(ListFiles(tmp_.path()).size(), 1u);
  EXPECT_EQ(w.Stats().open_segments, static_cast<uint64_t>(kMachines * kSensors));
  ASSERT_OK(w.Close());
  std::vector<std::string> files = ListFiles(tmp_.path());
  EXPECT_EQ(files.size(), static_cast<size_t>(kMachines * kSensors));
  EXPECT_EQ(CountPublished(files), files.size());
  EXPECT_EQ(ReadAllLines(tmp_.path(), "raw/date=2025-10-15/machine_id=M42/s7-"),
            (std::vector<std::string>{"{\"i\":4207}", "{\"i\":104207}", "{\"i\":204207}"}));
  EXPECT_EQ(ReadAllLines(tmp_.path()).size(), static_cast<size_t>(kMachines * kSensors * kSteps));
}

TEST_F(LakeWriterTest, FailedAppendLeavesNothingAndCanBeRetried) {
  LakeWriter w(Cfg(), tmp_.path(), clock_, fs_);
  ASSERT_OK(w.AppendRaw("2025-10-15", "M1", "vibration", Line(1)));
  fs_.disk_full = true;
  EXPECT_FALSE(w.AppendRaw("2025-10-15", "M1", "vibration", Line(2)).ok());
  EXPECT_FALSE(w.AppendRaw("2025-10-15", "M2", "vibration", Line(3)).ok());  // cannot even create
  fs_.disk_full = false;
  ASSERT_OK(w.AppendRaw("2025-10-15", "M1", "vibration", Line(2)));
  ASSERT_OK(w.AppendRaw("2025-10-15", "M2", "vibration", Line(3)));
  ASSERT_OK(w.Close());
  std::vector<std::string> lines = ReadAllLines(tmp_.path());
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"i\":1}", "{\"i\":2}", "{\"i\":3}"}));
}

TEST_F(LakeWriterTest, FsyncAlwaysSyncsEveryAppend) {
  LakeConfig c = Cfg();
  c.fsync = FsyncPolicy::kAlways;
  LakeWriter w(c, tmp_.path(), clock_, fs_);
  for (int i = 0; i < 5; ++i) ASSERT_OK(w.AppendRaw("2025-10-15", "M1", "vibration", Line(i)));
  EXPECT_EQ(fs_.syncs, 5);
  EXPECT_GE(fs_.dir_syncs, 1);  // the new file's directory entry
}

TEST_F(LakeWriterTest, FsyncIntervalSyncsOncePerInterval) {
  LakeWriter w(Cfg(), tmp_.path(), clock_, fs_);
  for (int i = 0; i < 5; ++i) ASSERT_OK(w.AppendRaw("2025-10-15", "M1", "vibration", Line(i)));
  EXPECT_EQ(fs_.syncs, 0);
  ASSERT_OK(w.Tick());
  EXPECT_EQ(fs_.syncs, 0);  // not due yet
  clock_.Advance(1000);
  ASSERT_OK(w.Tick());
  EXPECT_EQ(fs_.syncs, 1);
  clock_.Advance(1000);
  ASSERT_OK(w.Tick());
  EXPECT_EQ(fs_.syncs, 1);  // nothing new written
  ASSERT_OK(w.Close());
  EXPECT_EQ(fs_.syncs, 3);  // the publish: one syncfs before the renames, one after
}

TEST_F(LakeWriterTest, FsyncNeverDoesNotSync) {
  LakeConfig c = Cfg();
  c.fsync = FsyncPolicy::kNever;
  LakeWriter w(c, tmp_.path(), clock_, fs_);
  for (int i = 0; i < 5; ++i) ASSERT_OK(w.AppendRaw("2025-10-15", "M1", "vibration", Line(i)));
  clock_.Advance(10'000);
  ASSERT_OK(w.Tick());
  ASSERT_OK(w.Close());
  EXPECT_EQ(fs_.syncs, 0);
  EXPECT_EQ(fs_.dir_syncs, 0);
}

TEST_F(LakeWriterTest, SegmentNamesDoNotCollideAcrossRestartsAtTheSameMs) {
  for (int run = 0; run < 3; ++run) {
    LakeWriter w(Cfg(), tmp_.path(), clock_, fs_);
    ASSERT_OK(w.AppendRaw("2025-10-15", "M1", "vibration", Line(run)));
    ASSERT_OK(w.Close());
  }
  EXPECT_EQ(CountPublished(ListFiles(tmp_.path())), 3u);
  EXPECT_EQ(ReadAllLines(tmp_.path()).size(), 3u);
}

TEST(PathsTest, OpenFileNames) {
  std::string final_name;
  EXPECT_TRUE(IsOpenFileName(".vibration-1-000001.jsonl.open", &final_name));
  EXPECT_EQ(final_name, "vibration-1-000001.jsonl");
  EXPECT_FALSE(IsOpenFileName("vibration-1-000001.jsonl", &final_name));
  EXPECT_FALSE(IsOpenFileName(".x.jsonl.open.tmp", &final_name));
  EXPECT_EQ(OpenFileName("a.jsonl"), ".a.jsonl.open");
  EXPECT_EQ(SegmentFileName("", 5, 2), "0000000000005-000002.jsonl");
}

}  // namespace
}  // namespace vigil::lake
