#include "lake/recovery.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "lake/jsonl_writer.h"
#include "lake/segment_log.h"
#include "test_util.h"

namespace vigil::lake {
namespace {

using vigil::testing::ListFiles;
using vigil::testing::ReadFileOrDie;
using vigil::testing::TempDir;
using vigil::testing::WriteFileOrDie;

struct Recovered {
  RecoveryReport report;
  std::vector<TornPiece> torn;
};

Recovered Recover(const std::string& lake) {
  Recovered r;
  auto report = RecoverOpenSegments(lake, PosixFileSystem::Instance(), [&](const TornPiece& p) {
    r.torn.push_back(p);
    return Status::Ok();
  });
  EXPECT_TRUE(report.has_value()) << report.error().message();
  if (report) r.report = *report;
  return r;
}

const std::string kDir = "raw/date=2025-10-15/machine_id=M1/";

TEST(RecoveryTest, TornLastLineIsCutAndQuarantinedTheRestPublished) {
  TempDir tmp;
  WriteFileOrDie(tmp.path() + "/" + kDir + ".vibration-1-000001.jsonl.open",
                 "{\"a\":1}\n{\"a\":2}\n{\"a\":");
  Recovered r = Recover(tmp.path());
  EXPECT_EQ(r.report.segments_published, 1);
  ASSERT_EQ(r.torn.size(), 1u);
  EXPECT_EQ(r.torn[0].bytes, "{\"a\":");
  EXPECT_EQ(r.torn[0].offset, 16);
  EXPECT_EQ(r.torn[0].segment, kDir + "vibration-1-000001.jsonl");
  EXPECT_EQ(ListFiles(tmp.path()), std::vector<std::string>{kDir + "vibration-1-000001.jsonl"});
  EXPECT_EQ(ReadFileOrDie(tmp.path() + "/" + kDir + "vibration-1-000001.jsonl"), "{\"a\":1}\n{\"a\":2}\n");
}

TEST(RecoveryTest, CompleteSegmentIsPublishedUnchanged) {
  TempDir tmp;
  WriteFileOrDie(tmp.path() + "/quarantine/date=2025-10-15/.1-000001.jsonl.open", "{\"a\":1}\n");
  Recovered r = Recover(tmp.path());
  EXPECT_EQ(r.report.segments_published, 1);
  EXPECT_TRUE(r.torn.empty());
  EXPECT_EQ(ReadFileOrDie(tmp.path() + "/quarantine/date=2025-10-15/1-000001.jsonl"), "{\"a\":1}\n");
}

TEST(RecoveryTest, GarbageInTheMiddleIsQuarantinedGoodLinesKept) {
  TempDir tmp;
  std::string zeros(5, '\0');
  WriteFileOrDie(tmp.path() + "/" + kDir + ".t-1-000001.jsonl.open",
                 "{\"a\":1}\n" + zeros + "\n{\"a\":3}\n");
  Recovered r = Recover(tmp.path());
  ASSERT_EQ(r.torn.size(), 1u);
  EXPECT_EQ(r.torn[0].bytes, zeros);
  EXPECT_EQ(ReadFileOrDie(tmp.path() + "/" + kDir + "t-1-000001.jsonl"), "{\"a\":1}\n{\"a\":3}\n");
}

TEST(RecoveryTest, EmptyOrAllTornSegmentsAreRemoved) {
  TempDir tmp;
  WriteFileOrDie(tmp.path() + "/" + kDir + ".a-1-000001.jsonl.open", "");
  WriteFileOrDie(tmp.path() + "/" + kDir + ".b-1-000002.jsonl.open", "{\"tor");
  Recovered r = Recover(tmp.path());
  EXPECT_EQ(r.report.segments_removed, 2);
  EXPECT_EQ(r.torn.size(), 1u);
  EXPECT_TRUE(ListFiles(tmp.path()).empty());
}

TEST(RecoveryTest, PublishedSegmentsAreLeftAlone) {
  TempDir tmp;
  WriteFileOrDie(tmp.path() + "/" + kDir + "a-1-000001.jsonl", "{\"tor");
  Recovered r = Recover(tmp.path());
  EXPECT_EQ(r.report.segments_published + r.report.segments_removed, 0);
  EXPECT_EQ(ReadFileOrDie(tmp.path() + "/" + kDir + "a-1-000001.jsonl"), "{\"tor");
}

TEST(RecoveryTest, SegmentOfALiveWriterIsLeftAlone) {
  TempDir tmp;
  FakeClock clock(1760518800000);
  LakeWriter live(LakeConfig{}, tmp.path(), clock, PosixFileSystem::Instance());
  ASSERT_TRUE(live.AppendRaw("2025-10-15", "M1", "vibration", "{\"a\":1}\n").ok());
  // flock is per open file description: a child process stands in for "another process".
  pid_t pid = fork();
  if (pid == 0) {
    auto report = RecoverLogs(tmp.path(), PosixFileSystem::Instance(), FsyncPolicy::kInterval,
                              [](const TornPiece&) { return Status::Ok(); });
    _exit(report.has_value() && report->logs_recovered == 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(ListFiles(tmp.path()), std::vector<std::string>{".wal/1760518800000.log"});
  ASSERT_TRUE(live.Close().ok());
}

TEST(RecoveryTest, QuarantineFailureLeavesSegmentForNextStart) {
  TempDir tmp;
  const std::string open = tmp.path() + "/" + kDir + ".a-1-000001.jsonl.open";
  WriteFileOrDie(open, "{\"a\":1}\n{\"b");
  auto report = RecoverOpenSegments(tmp.path(), PosixFileSystem::Instance(),
                                    [](const TornPiece&) { return Status::IoError("disk full"); });
  EXPECT_FALSE(report.has_value());
  EXPECT_EQ(ReadFileOrDie(open), "{\"a\":1}\n{\"b");  // untouched
  Recovered r = Recover(tmp.path());                  // next start succeeds
  EXPECT_EQ(r.torn.size(), 1u);
}

TEST(RecoveryTest, WriterCrashMidSegmentRecoversEveryCompleteLine) {
  TempDir live, crashed;
  FakeClock clock(1760518800000);
  LakeConfig c;
  c.fsync = FsyncPolicy::kNever;
  LakeWriter w(c, live.path(), clock, PosixFileSystem::Instance());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(w.AppendRaw("2025-10-15", "M1", "vibration", "{\"i\":" + std::to_string(i) + "}\n").ok());
  }
  // The state a kill -9 leaves: a copy of the lake while the lines are in the writer's log.
  std::filesystem::copy(live.path(), crashed.path(), std::filesystem::copy_options::recursive |
                                                         std::filesystem::copy_options::overwrite_existing);
  std::vector<TornPiece> torn;
  auto report = RecoverLogs(crashed.path(), PosixFileSystem::Instance(), FsyncPolicy::kNever,
                            [&](const TornPiece& p) { torn.push_back(p); return Status::Ok(); });
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_EQ(report->logs_recovered, 1);
  EXPECT_EQ(report->segments_published, 1);
  EXPECT_TRUE(torn.empty());
  EXPECT_EQ(ListFiles(crashed.path()),
            std::vector<std::string>{std::string(kDir) + "vibration-1760518800000-000001.jsonl"});
  EXPECT_EQ(vigil::testing::ReadAllLines(crashed.path()).size(), 100u);
}

}  // namespace
}  // namespace vigil::lake
