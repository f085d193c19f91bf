// Disk safety on a real small filesystem (a tmpfs the test mounts): when free space falls
// under lake.min_free_bytes vigil stops taking messages (says so in /readyz and /metrics),
// nothing is lost or torn, and ingest resumes by itself when space is freed. The second
// test turns the guard off and runs into real ENOSPC: partial lines are cut back and the
// messages retried until space returns. Then: stopping vigil during a low-disk hold, and
// retention run at once when the disk goes low.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "integration/harness.h"
#include "common/dir_lock.h"
#include "lake/disk_guard.h"
#include "process/batch.h"
#include "test_util.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;

class SmallDisk {
 public:
  SmallDisk(const std::string& dir, int mib) : dir_(dir) {
    fs::create_directories(dir);
    const std::string opts = "size=" + std::to_string(mib) + "m";
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) != 0) error_ = std::strerror(errno);
  }
  ~SmallDisk() {
    if (error_.empty()) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  std::string error_;
};

// Writes a file of zeros until only keep_free bytes remain (0: until ENOSPC).
void Fill(const std::string& path, uint64_t keep_free) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  static const std::string chunk(64 * 1024, '\0');
  for (;;) {
    Result<uint64_t> free = lake::FreeBytes(fs::path(path).parent_path());
    ASSERT_TRUE(free.has_value());
    if (keep_free > 0 && *free <= keep_free + chunk.size()) break;
    if (std::fwrite(chunk.data(), 1, chunk.size(), f) != chunk.size() || std::fflush(f) != 0) break;
  }
  std::fclose(f);
}

const char* kTopic = "industrial/machine/M1/telemetry/vibration";

std::string Payload(int i) {
  char ts[64];
  // One reading per second from 2025-10-15T00:00:00Z; the timestamp identifies the message.
  std::snprintf(ts, sizeof ts, "2025-10-15T%02d:%02d:%02dZ", i / 3600, i / 60 % 60, i % 60);
  return std::string(R"({"machine_id":"M1","timestamp_utc":")") + ts + R"(","vibration_rms":2.5})";
}

// Distinct timestamps in the raw lake; fails the test on any finished line that is not a
// whole record. (Polled while vigil appends: the line in flight, without its newline yet,
// is not counted; ExpectNoPartialLines checks after the stop that none is left.)
std::set<std::string> Landed(const std::string& data) {
  std::set<std::string> seen;
  for (const std::string& line : ReadAllLines(data + "/lake", "raw/", /*finished_only=*/true)) {
    EXPECT_TRUE(line.size() > 2 && line.front() == '{' && line.back() == '}') << "torn line: " << line;
    size_t at = line.find("\"timestamp_utc\":\"");
    if (at != std::string::npos) seen.insert(line.substr(at + 17, 20));
  }
  return seen;
}

// Every segment file ends with a newline: no half line anywhere, open segments included.
void ExpectNoPartialLines(const std::string& lake) {
  for (const std::string& rel : ListFiles(lake)) {
    std::string text = ReadFileOrDie(lake + "/" + rel);
    if (!text.empty()) {
      EXPECT_EQ(text.back(), '\n') << rel;
    }
  }
}

// The data directory on a 16 MiB tmpfs, a broker, and `vigil run` with config `toml` and
// HTTP on a free port. A non-empty disk.error(): no tmpfs here (not root); the test skips.
struct SmallDiskRun {
  SmallDiskRun(const std::string& dir, const std::string& toml)
      : disk(dir + "/small", 16), data(dir + "/small/data"), config(dir + "/v.toml"), http(FreePort()) {
    WriteFileOrDie(config, toml);
    if (disk.error().empty()) broker = std::make_unique<Mosquitto>(dir);
  }
  Process Start(const std::string& client_id) const {
    return StartVigil(data, broker->port(), client_id,
                      {"--config", config, "--http-listen", "127.0.0.1:" + std::to_string(http)});
  }
  SmallDisk disk;
  const std::string data, config;
  const int http;
  std::unique_ptr<Mosquitto> broker;
};

TEST(DiskIntegration, LowDiskPausesIngestWithoutLossAndResumesWhenSpaceReturns) {
  TempDir tmp;
  SmallDiskRun run(tmp.path(), "[lake]\nmin_free_bytes = 4194304\nsegment_max_age = \"1s\"\n");
  if (!run.disk.error().empty()) GTEST_SKIP() << "cannot mount a tmpfs here (" << run.disk.error() << "): needs root";
  Process vigil = run.Start("it-13");
  ASSERT_TRUE(WaitSubscribed(*run.broker, "it-13"));
  Publisher pub(run.broker->port(), "pub-13");
  for (int i = 0; i < 100; ++i) pub.Publish(kTopic, Payload(i));
  ASSERT_TRUE(WaitFor([&] { return Landed(run.data).size() == 100; }, 10000));

  Fill(tmp.path() + "/small/filler", 3 << 20);  // under the 4 MiB threshold
  ASSERT_TRUE(WaitFor([&] { return HttpGet(run.http, "/readyz").first == 503; }, 5000));
  EXPECT_NE(HttpGet(run.http, "/readyz").second.find("disk low"), std::string::npos);
  EXPECT_EQ(MetricValue(HttpGet(run.http, "/metrics").second, "vigil_disk_low"), 1);
  for (int i = 100; i < 300; ++i) pub.Publish(kTopic, Payload(i));  // the broker queues them
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(Landed(run.data).size(), 100u) << "nothing may be written while the disk is low";
  EXPECT_NE(ReadFileOrDie(run.data + ".log").find("disk low"), std::string::npos);

  fs::remove(tmp.path() + "/small/filler");
  EXPECT_TRUE(WaitFor([&] { return HttpGet(run.http, "/readyz").first == 200; }, 5000));
  EXPECT_TRUE(WaitFor([&] { return Landed(run.data).size() == 300; }, 20000)) << Landed(run.data).size();
  const std::string metrics = HttpGet(run.http, "/metrics").second;
  EXPECT_EQ(MetricValue(metrics, "vigil_disk_low"), 0);
  EXPECT_EQ(MetricValue(metrics, "vigil_disk_low_episodes_total"), 1);
  EXPECT_NE(ReadFileOrDie(run.data + ".log").find("disk space back"), std::string::npos);
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(10000), 0);
  ExpectNoPartialLines(run.data + "/lake");
  EXPECT_TRUE(ReadAllLines(run.data + "/lake", "quarantine/").empty());
}

// SIGTERM while the disk guard holds messages: vigil stops cleanly (exit 0, open segments
// published) rather than waiting on the held message; the held messages stay queued at
// the broker and land after a restart with space freed. A hold beyond 1.5 keepalives is
// reported as a lost broker connection (Paho cannot ping meanwhile).
TEST(DiskIntegration, SigtermDuringLowDiskHoldExitsCleanlyAndLosesNothing) {
  TempDir tmp;
  SmallDiskRun run(tmp.path(), "[mqtt]\nkeepalive = \"1s\"\n[lake]\nmin_free_bytes = 4194304\n");
  if (!run.disk.error().empty()) GTEST_SKIP() << "cannot mount a tmpfs here (" << run.disk.error() << "): needs root";
  Process vigil = run.Start("it-13c");
  ASSERT_TRUE(WaitSubscribed(*run.broker, "it-13c"));
  Publisher pub(run.broker->port(), "pub-13c");
  for (int i = 0; i < 50; ++i) pub.Publish(kTopic, Payload(i));
  ASSERT_TRUE(WaitFor([&] { return Landed(run.data).size() == 50; }, 10000));

  Fill(tmp.path() + "/small/filler", 3 << 20);
  ASSERT_TRUE(WaitFor([&] { return HttpGet(run.http, "/readyz").first == 503; }, 5000));
  for (int i = 50; i < 150; ++i) pub.Publish(kTopic, Payload(i));
  EXPECT_TRUE(WaitFor([&] { return MetricValue(HttpGet(run.http, "/metrics").second, "vigil_broker_connected") == 0; },
                      6000));
  EXPECT_NE(HttpGet(run.http, "/readyz").second.find("disk low"), std::string::npos) << "the cause, first";
  EXPECT_EQ(Landed(run.data).size(), 50u);
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(10000), 0) << ReadFileOrDie(run.data + ".log");
  for (const std::string& rel : ListFiles(run.data + "/lake")) {
    EXPECT_EQ(rel.find(".open"), std::string::npos) << "not published at shutdown: " << rel;
  }

  fs::remove(tmp.path() + "/small/filler");
  Process again = run.Start("it-13c");
  EXPECT_TRUE(WaitFor([&] { return Landed(run.data).size() == 150; }, 20000)) << Landed(run.data).size();
  again.Signal(SIGTERM);
  EXPECT_EQ(again.Wait(10000), 0);
  ExpectNoPartialLines(run.data + "/lake");
}

// The disk going low runs retention at once (retention.interval is an hour here): an
// archive over its size limit is trimmed and ingest resumes by itself.
TEST(DiskIntegration, LowDiskRunsRetentionAtOnce) {
  TempDir tmp;
  SmallDiskRun run(tmp.path(), "[lake]\nmin_free_bytes = 4194304\n"
                               "[retention]\ninterval = \"1h\"\narchive_max_bytes = 1048576\n");
  if (!run.disk.error().empty()) GTEST_SKIP() << "cannot mount a tmpfs here (" << run.disk.error() << "): needs root";
  Process vigil = run.Start("it-13d");
  ASSERT_TRUE(WaitSubscribed(*run.broker, "it-13d"));
  ASSERT_TRUE(WaitFor([&] { return HttpGet(run.http, "/readyz").first == 200; }, 5000));
  // An old processed segment, bigger than archive_max_bytes, that brings the disk low.
  const std::string segment =
      run.data + "/lake/archive/date=2025-10-01/machine_id=M1/vibration-1759276800000-000001.jsonl";
  fs::create_directories(fs::path(segment).parent_path());
  Fill(segment, 3 << 20);
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(segment); }, 5000)) << "retention did not run on low disk";
  EXPECT_TRUE(WaitFor([&] { return HttpGet(run.http, "/readyz").first == 200; }, 5000));
  EXPECT_NE(ReadFileOrDie(run.data + ".log").find("disk low"), std::string::npos);
  Publisher pub(run.broker->port(), "pub-13d");
  pub.Publish(kTopic, Payload(0));
  EXPECT_TRUE(WaitFor([&] { return Landed(run.data).size() == 1; }, 10000));
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(10000), 0);
}

// Retention trims the archive only under the processors' lock: while another process
// (`vigil reprocess` reading the archive) holds it, the rounds only measure.
TEST(DiskIntegration, RetentionDoesNotTrimWhileTheProcessorsLockIsHeld) {
  TempDir tmp;
  Mosquitto broker(tmp.path());
  const std::string data = tmp.path() + "/data";
  const std::string segment = data + "/lake/archive/date=2025-10-01/machine_id=M1/vibration-1759276800000-000001.jsonl";
  WriteFileOrDie(segment, std::string(2000, 'x') + "\n");
  Result<DirLock> held = DirLock::Acquire(process::ProcessLockPath(data), "the test");
  ASSERT_TRUE(held.has_value()) << held.error().message();
  WriteFileOrDie(tmp.path() + "/v.toml", "[retention]\ninterval = \"1s\"\narchive_max_bytes = 1000\n");
  Process vigil = StartVigil(data, broker.port(), "it-13e", {"--config", tmp.path() + "/v.toml"});
  ASSERT_TRUE(WaitSubscribed(broker, "it-13e"));  // started: its log exists
  ASSERT_TRUE(WaitFor([&] { return ReadFileOrDie(data + ".log").find("not trimming this round") != std::string::npos; },
                      5000)) << ReadFileOrDie(data + ".log");
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // a second round too
  EXPECT_TRUE(fs::exists(segment));
  held = Status::Unavailable("released");  // drops the lock
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(segment); }, 5000));
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(10000), 0);
}

TEST(DiskIntegration, RealEnospcCutsPartialLinesAndRetriesUntilSpaceReturns) {
  TempDir tmp;
  SmallDisk disk(tmp.path() + "/small", 4);
  if (!disk.error().empty()) GTEST_SKIP() << "cannot mount a tmpfs here (" << disk.error() << "): needs root";
  Mosquitto broker(tmp.path());
  const std::string data = tmp.path() + "/small/data";
  WriteFileOrDie(tmp.path() + "/v.toml", "[lake]\nmin_free_bytes = 0\n");  // guard off: meet ENOSPC itself
  Process vigil = StartVigil(data, broker.port(), "it-13b", {"--config", tmp.path() + "/v.toml"});
  ASSERT_TRUE(WaitSubscribed(broker, "it-13b"));
  Publisher pub(broker.port(), "pub-13b");
  pub.Publish(kTopic, Payload(0));
  ASSERT_TRUE(WaitFor([&] { return Landed(data).size() == 1; }, 10000));

  Fill(tmp.path() + "/small/filler", 0);  // completely full
  for (int i = 1; i < 400; ++i) pub.Publish(kTopic, Payload(i));
  ASSERT_TRUE(WaitFor([&] { return ReadFileOrDie(data + ".log").find("No space left") != std::string::npos; }, 10000))
      << ReadFileOrDie(data + ".log");
  ExpectNoPartialLines(data + "/lake");

  fs::remove(tmp.path() + "/small/filler");
  EXPECT_TRUE(WaitFor([&] { return Landed(data).size() == 400; }, 30000)) << Landed(data).size();
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(10000), 0);
  ExpectNoPartialLines(data + "/lake");
}

}  // namespace
}  // namespace vigil::testing
