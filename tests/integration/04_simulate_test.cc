// vigil simulate against a real mosquitto and vigil run: a 30-day backfill of 5 machines
// lands in the lake with nothing lost; a stopped simulator resumes where it stopped.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "integration/harness.h"
#include "test_util.h"

namespace vigil::testing {
namespace {

struct Summary {
  uint64_t sent = 0, readings = 0, failures = 0, bad = 0;
};

// The simulator's last "sent=N readings=N failures=N bad=N" line.
bool ParseSummary(const std::string& log, Summary* s) {
  static const std::regex kLine(R"(sent=(\d+) readings=(\d+) failures=(\d+) bad=(\d+))");
  bool found = false;
  for (std::sregex_iterator it(log.begin(), log.end(), kLine), end; it != end; ++it) {
    s->sent = std::stoull((*it)[1]);
    s->readings = std::stoull((*it)[2]);
    s->failures = std::stoull((*it)[3]);
    s->bad = std::stoull((*it)[4]);
    found = true;
  }
  return found;
}

// Lines per "<kind>" file name prefix (vibration, temperature, failure) and per machine.
struct LakeCount {
  uint64_t lines = 0;
  std::map<std::string, uint64_t> by_kind;
  std::map<std::string, uint64_t> failures_by_machine;
};

LakeCount CountLake(const std::string& dir) {
  LakeCount c;
  for (const std::string& f : ListFiles(dir)) {
    std::string text = ReadFileOrDie(dir + "/" + f);
    uint64_t n = static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n'));
    c.lines += n;
    std::string name = std::filesystem::path(f).filename().string();
    c.by_kind[name.substr(0, name.find('-'))] += n;
    if (name.starts_with("failure-")) {
      std::string m = f.substr(f.find("machine_id=") + 11);
      c.failures_by_machine[m.substr(0, m.find('/'))] += n;
    }
  }
  return c;
}

// The file's text, or "" while it does not exist yet.
std::string ReadIfExists(const std::string& path) {
  return std::filesystem::exists(path) ? ReadFileOrDie(path) : std::string();
}

std::vector<std::string> SimulateArgs(const std::string& sim_dir, int port, std::vector<std::string> extra) {
  std::vector<std::string> argv = {VigilBinary(), "simulate", "--data-dir", sim_dir, "--host",
                                   "127.0.0.1", "--port", std::to_string(port)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

// vigil run with segments published every second and counters logged every second.
Process StartFastVigil(const TempDir& tmp, const std::string& data, int port, const std::string& id) {
  const std::string conf = tmp.path() + "/vigil.toml";
  WriteFileOrDie(conf, "[lake]\nsegment_max_age = \"1s\"\n[ingest]\nstats_interval = \"1s\"\n");
  return StartVigil(data, port, id, {"--config", conf});
}

bool WaitForReceived(const std::string& vigil_log, uint64_t n, int timeout_ms) {
  const std::string needle = "received=" + std::to_string(n) + " ";
  return WaitFor([&] { return ReadFileOrDie(vigil_log).find(needle) != std::string::npos; }, timeout_ms);
}

TEST(SimulateIntegration, ThirtyDayBackfillLandsInTheLakeWithNothingLost) {
  TempDir tmp;
  Mosquitto broker(tmp.path());
  const std::string data = tmp.path() + "/data";
  Process vigil = StartFastVigil(tmp, data, broker.port(), "it-04");
  ASSERT_TRUE(WaitFor([&] { return ReadFileOrDie(broker.log_path()).find("it-04 1 industrial/machine/#") != std::string::npos; }, 10000))
      << ReadFileOrDie(data + ".log");

  const std::string sim_log = tmp.path() + "/sim.log";
  Process sim(SimulateArgs(tmp.path() + "/sim", broker.port(),
                           {"--from", "2025-09-01", "--until", "2025-10-01", "--interval", "120",
                            "--seed", "4", "--bad-rate", "0.0005", "--summary-json",
                            tmp.path() + "/summary.json"}),
              sim_log);
  ASSERT_EQ(sim.Wait(60000), 0) << ReadFileOrDie(sim_log);
  Summary s;
  ASSERT_TRUE(ParseSummary(ReadFileOrDie(sim_log), &s)) << ReadFileOrDie(sim_log);
  // 30 days of 2-minute ticks, 5 machines, 2 sensors, minus the ticks machines were down.
  EXPECT_GT(s.readings, 30u * 720 * 10 * 9 / 10);
  EXPECT_LE(s.readings, 30u * 720 * 10);
  EXPECT_EQ(s.sent, s.readings + s.failures + s.bad);
  EXPECT_GT(s.bad, 0u);

  ASSERT_TRUE(WaitForReceived(data + ".log", s.sent, 60000)) << ReadFileOrDie(data + ".log").substr(0, 20000);
  vigil.Signal(SIGTERM);
  ASSERT_EQ(vigil.Wait(20000), 0) << ReadFileOrDie(data + ".log");

  LakeCount raw = CountLake(data + "/lake/raw");
  LakeCount quarantine = CountLake(data + "/lake/quarantine");
  EXPECT_EQ(raw.lines, s.readings + s.failures) << "every good message is in the raw lake, once";
  EXPECT_EQ(raw.by_kind["failure"], s.failures);
  EXPECT_EQ(raw.by_kind["vibration"] + raw.by_kind["temperature"], s.readings);
  EXPECT_EQ(quarantine.lines, s.bad) << "every malformed message is quarantined";
  EXPECT_GE(raw.failures_by_machine.size(), 3u) << "failures for several machines";

  // The JSON summary agrees with the lake, machine by machine.
  const std::string json = ReadFileOrDie(tmp.path() + "/summary.json");
  for (const auto& [machine, n] : raw.failures_by_machine) {
    EXPECT_NE(json.find("\"" + machine + "\":" + std::to_string(n)), std::string::npos) << machine << " in " << json;
  }
  EXPECT_NE(json.find("\"from\":\"2025-09-01T00:00:00.000Z\",\"until\":\"2025-10-01T00:00:00.000Z\""), std::string::npos) << json;
  // Lake partitions follow the event time of the backfill, not the wall clock.
  EXPECT_TRUE(std::filesystem::exists(data + "/lake/raw/date=2025-09-01/machine_id=PUMP-A01"));
  EXPECT_TRUE(std::filesystem::exists(data + "/lake/raw/date=2025-09-30/machine_id=PUMP-E05"));
  EXPECT_FALSE(std::filesystem::exists(data + "/lake/raw/date=2025-10-01"));
}

// SIGTERM in the middle of a backfill: exit 0 with the state saved; the same command then
// resumes at the saved tick, so the two runs together publish exactly the whole period.
TEST(SimulateIntegration, StoppedBackfillResumesFromItsState) {
  TempDir tmp;
  Mosquitto broker(tmp.path());
  const std::string data = tmp.path() + "/data";
  Process vigil = StartFastVigil(tmp, data, broker.port(), "it-04b");
  ASSERT_TRUE(WaitFor([&] { return ReadFileOrDie(broker.log_path()).find("it-04b 1 industrial/machine/#") != std::string::npos; }, 10000))
      << ReadFileOrDie(data + ".log");
  const std::vector<std::string> args = {"--from", "2025-09-01", "--until", "2025-09-03",
                                         "--interval", "60", "--machines", "2", "--rate", "2000"};
  const std::string sim_dir = tmp.path() + "/sim";
  const std::string log1 = tmp.path() + "/sim1.log", log2 = tmp.path() + "/sim2.log";
  Process first(SimulateArgs(sim_dir, broker.port(), args), log1);
  ASSERT_TRUE(WaitFor([&] { return ReadIfExists(log1).find("simulating 2 machine(s)") != std::string::npos; }, 10000))
      << ReadFileOrDie(log1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  first.Signal(SIGTERM);
  ASSERT_EQ(first.Wait(20000), 0) << ReadFileOrDie(log1);
  Summary s1, s2;
  ASSERT_TRUE(ParseSummary(ReadFileOrDie(log1), &s1)) << ReadFileOrDie(log1);
  EXPECT_GT(s1.sent, 0u);
  EXPECT_LT(s1.readings, 2u * 2 * 2880) << "stopped before the end";
  ASSERT_TRUE(std::filesystem::exists(sim_dir + "/simulate/state"));

  Process second(SimulateArgs(sim_dir, broker.port(), args), log2);
  ASSERT_EQ(second.Wait(60000), 0) << ReadFileOrDie(log2);
  EXPECT_NE(ReadFileOrDie(log2).find("resuming the saved state"), std::string::npos) << ReadFileOrDie(log2);
  ASSERT_TRUE(ParseSummary(ReadFileOrDie(log2), &s2)) << ReadFileOrDie(log2);

  ASSERT_TRUE(WaitForReceived(data + ".log", s1.sent + s2.sent, 30000)) << ReadFileOrDie(data + ".log");
  vigil.Signal(SIGTERM);
  ASSERT_EQ(vigil.Wait(20000), 0) << ReadFileOrDie(data + ".log");

  // An uninterrupted run of the same period (dry: into a second lake) gives the same lines.
  TempDir tmp2;
  Mosquitto broker2(tmp2.path());
  const std::string data2 = tmp2.path() + "/data";
  Process vigil2 = StartFastVigil(tmp2, data2, broker2.port(), "it-04c");
  ASSERT_TRUE(WaitFor([&] { return ReadFileOrDie(broker2.log_path()).find("it-04c 1 industrial/machine/#") != std::string::npos; }, 10000));
  std::vector<std::string> fast = args;
  fast.resize(fast.size() - 2);  // no --rate
  const std::string log3 = tmp2.path() + "/sim.log";
  Process whole(SimulateArgs(tmp2.path() + "/sim", broker2.port(), fast), log3);
  ASSERT_EQ(whole.Wait(60000), 0) << ReadFileOrDie(log3);
  Summary s3;
  ASSERT_TRUE(ParseSummary(ReadFileOrDie(log3), &s3));
  EXPECT_EQ(s1.sent + s2.sent, s3.sent);
  ASSERT_TRUE(WaitForReceived(data2 + ".log", s3.sent, 30000)) << ReadFileOrDie(data2 + ".log");
  vigil2.Signal(SIGTERM);
  ASSERT_EQ(vigil2.Wait(20000), 0);

  auto payloads = [](const std::string& lake) {
    std::vector<std::string> out;
    for (const std::string& line : ReadAllLines(lake)) out.push_back(line.substr(line.find("\"topic\"")));
    std::sort(out.begin(), out.end());
    return out;
  };
  std::vector<std::string> resumed = payloads(data + "/lake/raw"), straight = payloads(data2 + "/lake/raw");
  EXPECT_EQ(resumed.size(), straight.size());
  EXPECT_TRUE(resumed == straight) << "stop + resume publishes exactly what one run does";
}

}  // namespace
}  // namespace vigil::testing
