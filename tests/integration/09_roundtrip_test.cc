// Whole-pipeline round trips with the real binary: simulate -> run -> replay into a second
// data directory gives the same feature store; long and wide imports of the same data in
// a 24-sensor configuration give identical tables through process, export and reprocess.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include "integration/harness.h"
#include "test_util.h"

namespace vigil::testing {
namespace {

std::vector<std::string> Dump(const std::string& db_path, const std::string& table = "features") {
  std::vector<std::string> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return rows;
  sqlite3_stmt* st = nullptr;
  std::string sql = "SELECT * FROM " + table + " ORDER BY 1, 2";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string r;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const unsigned char* t = sqlite3_column_text(st, i);
        r += std::string(t ? reinterpret_cast<const char*>(t) : "NULL") + "|";
      }
      rows.push_back(r);
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows;
}

int RunTool(const std::vector<std::string>& argv, const std::string& log) {
  Process p(argv, log);
  return p.Wait(120'000);
}

TEST(RoundTripIntegration, SimulateRunReplayIntoASecondStoreGivesTheSameFeatures) {
  TempDir tmp;
  Mosquitto broker(tmp.path());
  const std::string port = std::to_string(broker.port()), a = tmp.path() + "/a", b = tmp.path() + "/b";
  Process vigil_a = StartVigil(a, broker.port(), "it-09a");
  ASSERT_TRUE(WaitSubscribed(broker, "it-09a"));
  ASSERT_EQ(RunTool({VigilBinary(), "simulate", "--data-dir", tmp.path() + "/sim", "--host", "127.0.0.1", "--port", port,
                 "--machines", "3", "--days", "3", "--interval", "120", "--seed", "9"}, tmp.path() + "/sim.log"), 0)
      << ReadFileOrDie(tmp.path() + "/sim.log");
  const size_t sent = 3 * 2 * 3 * 720;  // readings only, no bad ones
  ASSERT_TRUE(WaitFor([&] { return ReadAllLines(a + "/lake", "raw/").size() >= sent; }, 30000));
  vigil_a.Signal(SIGTERM);
  ASSERT_EQ(vigil_a.Wait(15000), 0);
  ASSERT_EQ(RunTool({VigilBinary(), "process", "--data-dir", a}, tmp.path() + "/pa.log"), 0);

  Process vigil_b = StartVigil(b, broker.port(), "it-09b");
  ASSERT_TRUE(WaitSubscribed(broker, "it-09b"));
  ASSERT_EQ(RunTool({VigilBinary(), "replay", "--data-dir", a, "--host", "127.0.0.1", "--port", port, "--client-id", "it-09r"},
                tmp.path() + "/replay.log"), 0) << ReadFileOrDie(tmp.path() + "/replay.log");
  const size_t lines_a = ReadAllLines(a + "/lake", "archive/").size();
  ASSERT_TRUE(WaitFor([&] { return ReadAllLines(b + "/lake", "raw/").size() == lines_a; }, 30000));
  vigil_b.Signal(SIGTERM);
  ASSERT_EQ(vigil_b.Wait(15000), 0);
  ASSERT_EQ(RunTool({VigilBinary(), "process", "--data-dir", b}, tmp.path() + "/pb.log"), 0);

  std::vector<std::string> fa = Dump(a + "/vigil.db"), fb = Dump(b + "/vigil.db");
  EXPECT_GT(fa.size(), 1000u);
  EXPECT_EQ(fa, fb);
  EXPECT_EQ(Dump(a + "/vigil.db", "failure_history"), Dump(b + "/vigil.db", "failure_history"));
}

TEST(RoundTripIntegration, ManySensorsLongAndWideImportsGiveIdenticalTables) {
  TempDir tmp;
  std::string conf = "[processing]\nwindow = \"10s\"\nlabel_horizon = \"1h\"\n";
  std::string header = "machine_id,timestamp_utc", long_csv = "machine_id,timestamp_utc,sensor,value\n", wide_csv;
  for (int i = 0; i < 24; ++i) {
    conf += "[[sensors]]\nname = \"ch" + std::to_string(i) + "\"\nfield = \"ch" + std::to_string(i) +
            "_v\"\nmin = " + std::to_string(-i) + "\nmax = " + std::to_string(100 + i) + "\n";
    header += ",ch" + std::to_string(i) + "_v";
  }
  for (int i = 0; i < 24; i += 4) {
    conf += "[[features]]\nname = \"ch" + std::to_string(i) + "_mean_5m\"\nsensor = \"ch" + std::to_string(i) +
            "\"\naggregate = \"mean\"\nduration = \"5m\"\n";
    conf += "[[features]]\nname = \"ch" + std::to_string(i) + "_std_1m\"\nsensor = \"ch" + std::to_string(i) +
            "\"\naggregate = \"std\"\nduration = \"1m\"\n";
  }
  wide_csv = header + "\n";
  for (int r = 0; r < 300; ++r) {
    std::string ts = "2025-10-15T09:" + std::string(r / 5 < 10 ? "0" : "") + std::to_string(r / 5) + ":" +
                     (r % 5 * 12 < 10 ? "0" : "") + std::to_string(r % 5 * 12) + ".250Z";
    for (const char* m : {"M1", "M2"}) {
      wide_csv += std::string(m) + "," + ts;
      for (int i = 0; i < 24; ++i) {
        bool empty = (r + i) % 7 == 0;
        std::string v = std::to_string((r * 31 + i * 7) % 90) + "." + std::to_string(i % 10);
        wide_csv += "," + (empty ? "" : v);
        if (!empty) long_csv += std::string(m) + "," + ts + ",ch" + std::to_string(i) + "," + v + "\n";
      }
      wide_csv += "\n";
    }
  }
  const std::string cfg = tmp.path() + "/many.toml";
  WriteFileOrDie(cfg, conf);
  WriteFileOrDie(tmp.path() + "/long.csv", long_csv);
  WriteFileOrDie(tmp.path() + "/wide.csv", wide_csv);
  ASSERT_EQ(RunTool({VigilBinary(), "check-config", cfg}, tmp.path() + "/cc.log"), 0) << ReadFileOrDie(tmp.path() + "/cc.log");
  for (const char* fmt : {"long", "wide"}) {
    std::string d = tmp.path() + "/" + fmt;
    ASSERT_EQ(RunTool({VigilBinary(), "import", "--config", cfg, "--data-dir", d, "--format", fmt, tmp.path() + "/" + fmt + ".csv"},
                  d + "-import.log"), 0) << ReadFileOrDie(d + "-import.log");
    ASSERT_EQ(RunTool({VigilBinary(), "process", "--config", cfg, "--data-dir", d}, d + "-process.log"), 0)
        << ReadFileOrDie(d + "-process.log");
  }
  std::vector<std::string> long_rows = Dump(tmp.path() + "/long/vigil.db");
  EXPECT_EQ(long_rows.size(), 2u * 300);
  EXPECT_EQ(long_rows, Dump(tmp.path() + "/wide/vigil.db"));
  // Export and reprocess work with the 24 sensors and give the same again.
  ASSERT_EQ(RunTool({VigilBinary(), "export", "--config", cfg, "--data-dir", tmp.path() + "/long", "--all", "--out",
                 tmp.path() + "/out.csv"}, tmp.path() + "/export.log"), 0) << ReadFileOrDie(tmp.path() + "/export.log");
  std::string exported = ReadFileOrDie(tmp.path() + "/out.csv");
  EXPECT_EQ(std::count(exported.begin(), exported.end(), '\n'), 1 + 600);
  EXPECT_NE(exported.find("ch23_v"), std::string::npos);
  ASSERT_EQ(RunTool({VigilBinary(), "reprocess", "--all", "--config", cfg, "--data-dir", tmp.path() + "/long"},
                tmp.path() + "/reprocess.log"), 0) << ReadFileOrDie(tmp.path() + "/reprocess.log");
  EXPECT_EQ(Dump(tmp.path() + "/long/vigil.db"), long_rows);
}

}  // namespace
}  // namespace vigil::testing
