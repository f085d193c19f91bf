#include "lake/segment_log.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "lake/fault_fs.h"
#include "lake/jsonl_writer.h"
#include "lake/paths.h"
#include "test_util.h"

namespace vigil::lake {
namespace {

using vigil::testing::ListFiles;
using vigil::testing::ReadFileOrDie;
using vigil::testing::TempDir;
using vigil::testing::WriteFileOrDie;

constexpr std::string_view kRaw = "raw/date=2025-10-15/machine_id=M1";
constexpr int64_t kId = 1760518800000;

struct Recovered {
  RecoveryReport report;
  std::vector<TornPiece> torn;
};

Recovered Recover(const std::string& lake, size_t piece = size_t{1} << 20) {
  Recovered r;
  auto report = RecoverLogs(
      lake, PosixFileSystem::Instance(), FsyncPolicy::kInterval,
      [&](const TornPiece& p) {
        r.torn.push_back(p);
        return Status::Ok();
      },
      piece);
  EXPECT_TRUE(report.has_value()) << report.error().message();
  if (report) r.report = *report;
  return r;
}

std::string Record(std::string_view partition, std::string_view kind, std::string_view line, bool new_stream) {
  std::string out;
  AppendLogRecord(partition, kind, line, new_stream, &out);
  return out;
}

std::string LogPath(const TempDir& tmp) { return WalDir(tmp.path()) + "/" + LogFileName(kId); }

TEST(LogIndexTest, MergesAdjacentLinesAndNumbersStreamsByFirstAppearance) {
  LogIndex index;
  EXPECT_FALSE(index.IsCurrent("p", "a"));
  index.Add("p", "a", 10, 5);
  EXPECT_TRUE(index.IsCurrent("p", "a"));
  index.Add("p", "a", 15, 5);   // adjacent: one extent
  index.Add("p", "b", 30, 4);
  index.Add("p", "a", 40, 5);
  ASSERT_EQ(index.streams().size(), 2u);
  const LogStream& a = index.streams()[0];
  EXPECT_EQ(a.index, 1u);
  EXPECT_EQ(a.bytes, 15u);
  ASSERT_EQ(a.extents.size(), 2u);
  EXPECT_EQ(a.extents[0].offset, 10u);
  EXPECT_EQ(a.extents[0].length, 10u);
  EXPECT_EQ(index.streams()[1].index, 2u);
  EXPECT_EQ(index.lines(), 4u);
}

TEST(LogRecoveryTest, CompleteRecordsArePublishedTornTailQuarantinedLogRemoved) {
  TempDir tmp;
  std::string log = Record(kRaw, "vibration", "{\"a\":1}\n", true) + Record(kRaw, "vibration", "{\"a\":2}\n", false) +
                    Record("quarantine/date=2025-10-16", "", "{\"q\":1}\n", true) +
                    Record(kRaw, "vibration", "{\"a\":3}\n", true) + "{\"a\":";
  WriteFileOrDie(LogPath(tmp), log);
  Recovered r = Recover(tmp.path());
  EXPECT_EQ(r.report.logs_recovered, 1);
  EXPECT_EQ(r.report.segments_published, 2);
  ASSERT_EQ(r.torn.size(), 1u);
  EXPECT_EQ(r.torn[0].bytes, "{\"a\":");
  EXPECT_EQ(r.torn[0].segment, ".wal/1760518800000.log");
  EXPECT_EQ(r.torn[0].offset, static_cast<int64_t>(log.size() - 5));
  EXPECT_EQ(ListFiles(tmp.path()),
            (std::vector<std::string>{"quarantine/date=2025-10-16/1760518800000-000002.jsonl",
                                      std::string(kRaw) + "/vibration-1760518800000-000001.jsonl"}));
  EXPECT_EQ(ReadFileOrDie(tmp.path() + "/" + std::string(kRaw) + "/vibration-1760518800000-000001.jsonl"),
            "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
}

// The log is read a piece at a time: lines and key lines cut by a piece's end, a piece
// ending at a '\n', and a torn tail give what reading it whole gives.
TEST(LogRecoveryTest, ReadingTheLogInPiecesOfAnySizeRecoversTheSame) {
  const std::string log = Record(kRaw, "vibration", "{\"a\":1}\n", true) + "\n" +
                          Record("quarantine/date=2025-10-16", "", "{\"q\":1}\n", true) +
                          "garbage\n" + Record(kRaw, "vibration", "{\"a\":2}\n", true) +
                          Record(kRaw, "vibration", "{\"a\":3}\n", false) + "{\"a\":";
  for (size_t piece = 1; piece <= log.size() + 1; ++piece) {
    SCOPED_TRACE("piece " + std::to_string(piece));
    TempDir tmp;
    WriteFileOrDie(LogPath(tmp), log);
    Recovered r = Recover(tmp.path(), piece);
    EXPECT_EQ(r.report.logs_recovered, 1);
    EXPECT_EQ(r.report.segments_published, 2);
    ASSERT_EQ(r.torn.size(), 2u);
    EXPECT_EQ(r.torn[0].bytes, "garbage");
    EXPECT_EQ(r.torn[0].offset, static_cast<int64_t>(log.find("garbage")));
    EXPECT_EQ(r.torn[1].bytes, "{\"a\":");
    EXPECT_EQ(r.torn[1].offset, static_cast<int64_t>(log.size() - 5));
    EXPECT_EQ(ReadFileOrDie(tmp.path() + "/" + std::string(kRaw) +
                            "/vibration-1760518800000-000001.jsonl"),
              "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
    EXPECT_EQ(ReadFileOrDie(tmp.path() + "/quarantine/date=2025-10-16/1760518800000-000002.jsonl"),
              "{\"q\":1}\n");
    EXPECT_FALSE(std::filesystem::exists(LogPath(tmp)));
  }
}

// AddressSanitizer keeps freed memory in quarantine and pads every allocation: a peak RSS
// under it says nothing about vigil's. The memory tests check their results there, and
// their bound in the plain builds (ctest, the README's test command).
#if defined(__SANITIZE_ADDRESS__)  // gcc
#define VIGIL_TEST_UNDER_ASAN 1
#elif defined(__has_feature)  // clang
#if __has_feature(address_sanitizer)
#define VIGIL_TEST_UNDER_ASAN 1
#endif
#endif
#ifdef VIGIL_TEST_UNDER_ASAN
constexpr bool kPeakRssIsMeaningful = false;
#else
constexpr bool kPeakRssIsMeaningful = true;
#endif

// The most of its own memory (peak RSS above the RSS before it, in KiB) that a child
// process's RecoverLogs of the lake took; -1 if it failed.
int64_t RecoveryPeakKiB(const std::string& lake) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    auto kib = [](const char* field) -> int64_t {  // a "VmXxx:  N kB" line of /proc/self/status
      std::ifstream in("/proc/self/status");
      for (std::string line; std::getline(in, line);) {
        if (line.rfind(field, 0) == 0) return std::stoll(line.substr(std::strlen(field)));
      }
      return -1;
    };
    std::ofstream("/proc/self/clear_refs") << "5";  // the peak starts again from the RSS now
    const int64_t before = kib("VmRSS:");
    auto report = RecoverLogs(lake, PosixFileSystem::Instance(), FsyncPolicy::kNever,
                              [](const TornPiece&) { return Status::Ok(); });
    const int64_t peak = kib("VmHWM:");
    const int64_t out =
        report.has_value() && report->logs_recovered == 1 && before >= 0 && peak >= 0
            ? peak - before
            : -1;
    (void)!write(fds[1], &out, sizeof out);
    _exit(0);
  }
  close(fds[1]);
  int64_t out = -1;
  if (read(fds[0], &out, sizeof out) != sizeof out) out = -1;
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  return out;
}

// A crash leaves a log of every stream's last minutes (2,000 streams interleaved here, as
// a wide plant writes them): recovery reads it in pieces, and its memory is mostly the index (16 bytes a record).
TEST(LogRecoveryTest, ALargeLogIsRecoveredInAFractionOfItsSizeInMemory) {
  TempDir tmp;
  std::string log;
  const std::string payload(160, 'x');
  int64_t lines = 0;
  for (size_t i = 0; log.size() < (size_t{64} << 20); ++i, ++lines) {
    const std::string partition = "raw/date=2025-10-15/machine_id=M" + std::to_string(i % 100);
    AppendLogRecord(partition, "s" + std::to_string(i / 100 % 20),
                    "{\"i\":" + std::to_string(i) + ",\"p\":\"" + payload + "\"}\n",
                    /*new_stream=*/true, &log);
  }
  WriteFileOrDie(LogPath(tmp), log);
  const int64_t log_kib = static_cast<int64_t>(log.size() / 1024);
  log = std::string();
  const int64_t peak = RecoveryPeakKiB(tmp.path());
  ASSERT_GE(peak, 0) << "recovery failed";
  if (kPeakRssIsMeaningful) {
    EXPECT_LT(peak, log_kib / 3) << "a log of " << log_kib << " KiB took " << peak << " KiB";
  }
  EXPECT_EQ(vigil::testing::ReadAllLines(tmp.path()).size(), static_cast<size_t>(lines));
}

// One stream of more than a piece (lake.segment_max_bytes may be large): published and
// compared with an existing segment a piece at a time.
TEST(LogRecoveryTest, AStreamLargerThanAPieceIsComparedWholeWithAnExistingSegment) {
  std::string lines;
  for (int i = 0; lines.size() < (size_t{3} << 20) / 2; ++i) lines += "{\"i\":" + std::to_string(i) + "}\n";
  const std::string log = Record(kRaw, "vibration", lines, true);
  const std::string name = std::string(kRaw) + "/vibration-1760518800000-000001.jsonl";
  std::string other = lines;
  other[(size_t{6} << 20) / 5] = ' ';  // a byte past the first MiB
  for (const std::string& existing : {lines, other}) {
    TempDir tmp;
    WriteFileOrDie(LogPath(tmp), log);
    WriteFileOrDie(tmp.path() + "/" + name, existing);
    Recovered r = Recover(tmp.path());
    EXPECT_TRUE(r.torn.empty());
    if (existing == lines) {
      EXPECT_EQ(r.report.segments_published, 0);  // found published
      EXPECT_EQ(ListFiles(tmp.path()), std::vector<std::string>{name});
    } else {
      EXPECT_EQ(r.report.segments_published, 1);
      EXPECT_EQ(ReadFileOrDie(tmp.path() + "/" + name), other);  // kept
      EXPECT_EQ(ReadFileOrDie(tmp.path() + "/" + std::string(kRaw) + "/vibration-1760518800000-1000000001.jsonl"),
                lines);
    }
  }
}

// One stream as large as a segment may be (a historian's channel): its lines go through
// memory a piece at a time.
TEST(LogRecoveryTest, ALargeStreamIsPublishedInBoundedMemory) {
  TempDir tmp;
  std::string lines;
  const std::string payload(200, 'x');
  for (int i = 0; lines.size() < (size_t{48} << 20); ++i) {
    lines += "{\"i\":" + std::to_string(i) + ",\"p\":\"" + payload + "\"}\n";
  }
  WriteFileOrDie(LogPath(tmp), Record(kRaw, "vibration", lines, true));
  const int64_t log_kib = static_cast<int64_t>(lines.size() / 1024);
  const size_t bytes = lines.size();
  lines = std::string();
  const int64_t peak = RecoveryPeakKiB(tmp.path());
  ASSERT_GE(peak, 0) << "recovery failed";
  if (kPeakRssIsMeaningful) {
    EXPECT_LT(peak, log_kib / 8) << "a stream of " << log_kib << " KiB took " << peak << " KiB";
  }
  EXPECT_EQ(std::filesystem::file_size(tmp.path() + "/" + std::string(kRaw) + "/vibration-1760518800000-000001.jsonl"),
            bytes);
}

// kill -9 in the middle of a publish: one segment renamed, one staged half-written.
TEST(LogRecoveryTest, APublishCutShortIsFinishedWithoutDuplicates) {
  TempDir tmp;
  WriteFileOrDie(LogPath(tmp), Record(kRaw, "vibration", "{\"a\":1}\n", true) +
                                   Record(kRaw, "temperature", "{\"t\":1}\n", true) +
                                   Record(kRaw, "temperature", "{\"t\":2}\n", false));
  const std::string dir = tmp.path() + "/" + std::string(kRaw);
  WriteFileOrDie(dir + "/vibration-1760518800000-000001.jsonl", "{\"a\":1}\n");
  WriteFileOrDie(dir + "/.temperature-1760518800000-000002.jsonl.open", "{\"t\":1}\n{\"t");
  Recovered r = Recover(tmp.path());
  EXPECT_TRUE(r.torn.empty());
  EXPECT_EQ(r.report.segments_published, 1);
  EXPECT_EQ(ListFiles(tmp.path()),
            (std::vector<std::string>{std::string(kRaw) + "/temperature-1760518800000-000002.jsonl",
                                      std::string(kRaw) + "/vibration-1760518800000-000001.jsonl"}));
  EXPECT_EQ(ReadFileOrDie(dir + "/temperature-1760518800000-000002.jsonl"), "{\"t\":1}\n{\"t\":2}\n");
  EXPECT_EQ(ReadFileOrDie(dir + "/vibration-1760518800000-000001.jsonl"), "{\"a\":1}\n");
}

// A segment of the same name with other content (a clock stepped back) is kept; the
// log's stream goes to a new name.
TEST(LogRecoveryTest, ANameTakenByOtherContentIsNotOverwritten) {
  TempDir tmp;
  WriteFileOrDie(LogPath(tmp), Record(kRaw, "vibration", "{\"a\":1}\n", true));
  const std::string dir = tmp.path() + "/" + std::string(kRaw);
  WriteFileOrDie(dir + "/vibration-1760518800000-000001.jsonl", "{\"other\":1}\n");
  Recovered r = Recover(tmp.path());
  EXPECT_EQ(r.report.segments_published, 1);
  std::vector<std::string> files = ListFiles(tmp.path());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(ReadFileOrDie(dir + "/vibration-1760518800000-000001.jsonl"), "{\"other\":1}\n");
  EXPECT_EQ(files[1], std::string(kRaw) + "/vibration-1760518800000-1000000001.jsonl");
  EXPECT_EQ(ReadFileOrDie(tmp.path() + "/" + files[1]), "{\"a\":1}\n");
}

// After a power cut a key line may hold anything: it never chooses a path outside the lake.
TEST(LogRecoveryTest, KeyLinesThatAreNotLakePartitionsAreQuarantinedWithTheirLines) {
  TempDir tmp;
  WriteFileOrDie(LogPath(tmp), std::string("#raw/date=2025-10-15/machine_id=../../etc\tx\n{\"a\":1}\n") +
                                   "#raw/date=2025-10-15/machine_id=M1\t../x\n{\"a\":2}\n" + "{\"no_key\":1}\n" +
                                   "#quarantine/date=2025-10-15\tkind\n{\"a\":3}\n" +
                                   Record(kRaw, "vibration", "not json\n", true) +
                                   Record(kRaw, "vibration", "{\"ok\":1}\n", false));
  Recovered r = Recover(tmp.path());
  EXPECT_EQ(r.torn.size(), 8u);
  EXPECT_EQ(ListFiles(tmp.path()),
            std::vector<std::string>{std::string(kRaw) + "/vibration-1760518800000-000001.jsonl"});
}

TEST(LogRecoveryTest, ALiveWritersLogIsLeftAlone) {
  TempDir tmp;
  FakeClock clock(kId);
  LakeWriter live(LakeConfig{}, tmp.path(), clock, PosixFileSystem::Instance());
  ASSERT_OK(live.AppendRaw("2025-10-15", "M1", "vibration", "{\"a\":1}\n"));
  Recovered r = Recover(tmp.path());
  EXPECT_EQ(r.report.logs_recovered, 0);
  EXPECT_EQ(ListFiles(tmp.path()), std::vector<std::string>{".wal/1760518800000.log"});
  ASSERT_OK(live.Close());
  EXPECT_EQ(ListFiles(tmp.path()),
            std::vector<std::string>{std::string(kRaw) + "/vibration-1760518800000-000001.jsonl"});
}

// A publish that fails (disk full) keeps the log; the next Tick finishes it.
TEST(LogRecoveryTest, AFailedPublishIsRetriedByTick) {
  TempDir tmp;
  FakeClock clock(kId);
  vigil::testing::FaultyFileSystem fs;
  LakeConfig c;
  c.segment_max_age_ms = 1000;
  LakeWriter w(c, tmp.path(), clock, fs);
  ASSERT_OK(w.AppendRaw("2025-10-15", "M1", "vibration", "{\"a\":1}\n"));
  ASSERT_OK(w.AppendRaw("2025-10-15", "M2", "vibration", "{\"a\":2}\n"));
  fs.disk_full = true;
  clock.Advance(1000);
  EXPECT_FALSE(w.Tick().ok());
  EXPECT_EQ(w.Stats().publish_errors, 1u);
  fs.disk_full = false;
  ASSERT_OK(w.Tick());
  EXPECT_EQ(ListFiles(tmp.path()),
            (std::vector<std::string>{std::string(kRaw) + "/vibration-1760518800000-000001.jsonl",
                                      "raw/date=2025-10-15/machine_id=M2/vibration-1760518800000-000002.jsonl"}));
}

TEST(NewestLogLinesTest, LinesOfThePrefixInLogOrderNewestKept) {
  TempDir tmp;
  WriteFileOrDie(LogPath(tmp), Record("quarantine/date=2025-10-15", "", "{\"q\":1}\n", true) +
                                   Record(kRaw, "vibration", "{\"a\":1}\n", true) +
                                   Record("quarantine/date=2025-10-15", "", "{\"q\":2}\n", true) +
                                   Record("quarantine/date=2025-10-15", "", "{\"q\":3}\n", false) + "{\"q\":4");
  EXPECT_EQ(NewestLogLines(tmp.path(), "quarantine/", 2), (std::vector<std::string>{"{\"q\":2}", "{\"q\":3}"}));
  EXPECT_EQ(NewestLogLines(tmp.path(), "raw/", 5), std::vector<std::string>{"{\"a\":1}"});
  EXPECT_TRUE(NewestLogLines(tmp.path() + "/none", "raw/", 5).empty());
}

}  // namespace
}  // namespace vigil::lake
