// The scheduled processor inside vigil run, and vigil process next to it: published
// segments become features in vigil.db and move to lake/archive.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include "common/timestamp.h"
#include "integration/harness.h"
#include "test_util.h"
#include "vigil/clock.h"

namespace vigil::testing {
namespace {

int64_t Count(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

TEST(ProcessIntegration, DaemonProcessesPublishedSegmentsOnSchedule) {
  TempDir tmp;
  Mosquitto broker(tmp.path());
  std::string conf = tmp.path() + "/vigil.toml";
  WriteFileOrDie(conf, "[lake]\nsegment_max_age = \"1s\"\n[processing]\ninterval = \"1s\"\n");
  std::string data = tmp.path() + "/data";
  Process vigil = StartVigil(data, broker.port(), "it-07", {"--config", conf});
  ASSERT_TRUE(WaitSubscribed(broker, "it-07"));
  {
    Publisher pub(broker.port(), "pub-07");
    const int64_t now = SystemClock::Instance().NowMs() - 60'000;
    for (int i = 0; i < 30; ++i) {
      std::string ts = FormatTimestampMs(now + i * 1000);
      pub.Publish("industrial/machine/M1/telemetry/vibration",
                  R"({"machine_id":"M1","timestamp_utc":")" + ts + R"(","vibration_rms":)" + std::to_string(1 + i % 5) + "}");
      pub.Publish("industrial/machine/M1/telemetry/temperature",
                  R"({"machine_id":"M1","timestamp_utc":")" + ts + R"(","temperature_celsius":70})");
    }
  }
  const std::string db = data + "/vigil.db";
  ASSERT_TRUE(WaitFor([&] { return Count(db, "SELECT count(*) FROM features") == 30; }, 20000))
      << ReadFileOrDie(data + ".log");
  EXPECT_EQ(Count(db, "SELECT count(*) FROM latest_features WHERE machine_id = 'M1'"), 1);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM features WHERE vib_mean_5h IS NULL OR temp_max_24h IS NULL"), 0);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM features WHERE label_failure_7d IS NOT NULL"), 0);  // 7 days not seen yet
  ASSERT_TRUE(WaitFor([&] { return ListFiles(data + "/lake/raw").empty(); }, 10000));
  EXPECT_FALSE(ListFiles(data + "/lake/archive").empty());

  // A one-shot `vigil process` beside the daemon: nothing left to do (exit 0), or, if the
  // daemon's processor holds the lock right then, a polite refusal (exit 1).
  Process once({VigilBinary(), "process", "--data-dir", data}, tmp.path() + "/process.log");
  int rc = once.Wait(30000);
  std::string out = ReadFileOrDie(tmp.path() + "/process.log");
  EXPECT_TRUE(rc == 0 || (rc == 1 && out.find("already running on this data directory") != std::string::npos)) << rc << out;
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(15000), 0) << ReadFileOrDie(data + ".log");
  EXPECT_NE(ReadFileOrDie(data + ".log").find("[process]"), std::string::npos);
}

TEST(ProcessIntegration, ProcessOnExitMakesTheStoreCurrent) {
  TempDir tmp;
  Mosquitto broker(tmp.path());
  std::string data = tmp.path() + "/data";
  // Default intervals (5 min): only the final run at shutdown can produce the rows.
  Process vigil = StartVigil(data, broker.port(), "it-07b", {"--process-on-exit"});
  ASSERT_TRUE(WaitSubscribed(broker, "it-07b"));
  {
    Publisher pub(broker.port(), "pub-07b");
    std::string ts = FormatTimestampMs(SystemClock::Instance().NowMs() - 5000);
    pub.Publish("industrial/machine/M9/telemetry/vibration",
                R"({"machine_id":"M9","timestamp_utc":")" + ts + R"(","vibration_rms":3})");
  }
  ASSERT_TRUE(WaitFor([&] { return ReadAllLines(data + "/lake").size() == 1; }, 10000));
  vigil.Signal(SIGTERM);
  ASSERT_EQ(vigil.Wait(15000), 0) << ReadFileOrDie(data + ".log");
  EXPECT_EQ(Count(data + "/vigil.db", "SELECT count(*) FROM latest_features WHERE machine_id = 'M9'"), 1);
}

}  // namespace
}  // namespace vigil::testing
