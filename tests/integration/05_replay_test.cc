// vigil replay: a lake published back through a broker into a second daemon gives the same
// messages (topics and payload bytes), in event-time order, filters applied.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>

#include "integration/harness.h"
#include "test_util.h"

namespace vigil::testing {
namespace {

// "topic payload" of every raw line under lake (received_at differs between lakes).
std::vector<std::string> Messages(const std::string& lake) {
  std::vector<std::string> out;
  for (const std::string& l : ReadAllLines(lake, "raw/")) {
    size_t t = l.find("\"topic\":");
    out.push_back(l.substr(t));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ReplayIntegration, ReplayIntoASecondDaemonGivesTheSameMessages) {
  TempDir tmp;
  // Lake A from CSV history (out of order on purpose), no broker needed.
  std::string csv = tmp.path() + "/h.csv";
  std::string rows = "machine_id,timestamp_utc,sensor,value\n";
  for (int i = 59; i >= 0; --i) {
    rows += "M" + std::to_string(i % 3) + ",2025-10-15T09:" + (i < 10 ? "0" : "") + std::to_string(i) +
            ":00.5Z,vibration," + std::to_string(i) + ".25\n";
  }
  rows += "M1,2025-10-16T00:00:00Z,temperature,70\n";
  WriteFileOrDie(csv, rows);
  std::string a = tmp.path() + "/a";
  Process import({VigilBinary(), "import", "--data-dir", a, csv}, tmp.path() + "/import.log");
  ASSERT_EQ(import.Wait(30000), 0) << ReadFileOrDie(tmp.path() + "/import.log");
  ASSERT_EQ(Messages(a + "/lake").size(), 61u);

  Mosquitto broker(tmp.path());
  std::string b = tmp.path() + "/b";
  Process vigil = StartVigil(b, broker.port(), "it-05");
  ASSERT_TRUE(WaitSubscribed(broker, "it-05"));
  Process replay({VigilBinary(), "replay", "--data-dir", a, "--host", "127.0.0.1", "--port",
                  std::to_string(broker.port())}, tmp.path() + "/replay.log");
  ASSERT_EQ(replay.Wait(30000), 0) << ReadFileOrDie(tmp.path() + "/replay.log");
  ASSERT_TRUE(WaitFor([&] { return ReadAllLines(b + "/lake").size() == 61; }, 10000));
  vigil.Signal(SIGTERM);
  ASSERT_EQ(vigil.Wait(10000), 0);
  EXPECT_EQ(Messages(b + "/lake"), Messages(a + "/lake"));

  // Event-time order: the lines of B (one segment per machine and kind) are sorted by
  // the payload timestamps, although the CSV was written backwards.
  for (const std::string& f : ListFiles(b + "/lake/raw")) {
    std::vector<std::string> ts;
    for (const std::string& l : ReadAllLines(b + "/lake/raw/" + f.substr(0, f.rfind('/')))) {
      ts.push_back(l.substr(l.find("timestamp_utc")));
    }
    EXPECT_TRUE(std::is_sorted(ts.begin(), ts.end())) << f;
  }
}

TEST(ReplayIntegration, DryRunCountsWithFilters) {
  TempDir tmp;
  std::string csv = tmp.path() + "/h.csv";
  WriteFileOrDie(csv, "machine_id,timestamp_utc,sensor,value\n"
                      "M1,2025-10-15T09:00:00Z,vibration,1\nM1,2025-10-15T10:00:00Z,vibration,2\n"
                      "M2,2025-10-15T09:30:00Z,vibration,3\nM1,2025-10-17T09:00:00Z,vibration,4\n");
  std::string a = tmp.path() + "/a";
  Process import({VigilBinary(), "import", "--data-dir", a, csv}, tmp.path() + "/import.log");
  ASSERT_EQ(import.Wait(30000), 0);
  std::string log = tmp.path() + "/replay.log";
  Process replay({VigilBinary(), "replay", "--data-dir", a, "--dry-run", "--machine", "M1",
                  "--from", "2025-10-15T09:30:00Z", "--until", "2025-10-17"}, log);
  ASSERT_EQ(replay.Wait(30000), 0) << ReadFileOrDie(log);
  EXPECT_NE(ReadFileOrDie(log).find("would publish 1 messages"), std::string::npos) << ReadFileOrDie(log);
}

}  // namespace
}  // namespace vigil::testing
