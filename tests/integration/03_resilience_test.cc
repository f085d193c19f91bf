// Loss-freedom: a broker restart mid-stream and kill -9 of vigil at random moments while
// a publisher sends numbered QoS 1 messages. Every acknowledged message must end up in the
// lake (duplicates allowed, nothing missing).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "common/timestamp.h"
#include "integration/harness.h"
#include "test_util.h"
#include "vigil/clock.h"

namespace vigil::testing {
namespace {

// Message seq goes to machine M<seq % machines>; with more than 7 machines, odd rounds
// are temperature readings, so machines x 2 streams are interleaved.
bool IsTemperature(int seq, int machines) { return machines > 7 && (seq / machines) % 2 == 1; }
std::string Numbered(int seq, int machines = 7) {
  std::string id = "M" + std::to_string(seq % machines);
  return R"({"machine_id":")" + id + R"(","timestamp_utc":")" + FormatTimestampMs(SystemClock::Instance().NowMs()) +
         (IsTemperature(seq, machines) ? R"(","temperature_celsius":41.5,"seq":)" : R"(","vibration_rms":1.5,"seq":)") +
         std::to_string(seq) + "}";
}
std::string TopicFor(int seq, int machines = 7) {
  return "industrial/machine/M" + std::to_string(seq % machines) +
         (IsTemperature(seq, machines) ? "/telemetry/temperature" : "/telemetry/vibration");
}

std::set<int> SeqsInLake(const std::string& data) {
  static const std::regex kSeq(R"("seq":(\d+))");
  std::set<int> seen;
  for (const std::string& l : ReadAllLines(data + "/lake", "raw/")) {
    std::smatch m;
    if (std::regex_search(l, m, kSeq)) seen.insert(std::stoi(m[1]));
  }
  return seen;
}

void ExpectAll(const std::set<int>& seen, int n, const std::string& log) {
  std::vector<int> missing;
  for (int i = 0; i < n; ++i) {
    if (!seen.count(i)) missing.push_back(i);
  }
  EXPECT_TRUE(missing.empty()) << missing.size() << " missing, first " << missing.front() << "\n" << log;
}

TEST(ResilienceIntegration, BrokerRestartMidStreamLosesNothing) {
  TempDir tmp;
  Mosquitto broker(tmp.path());
  std::string data = tmp.path() + "/data";
  Process vigil = StartVigil(data, broker.port(), "it-03a");
  ASSERT_TRUE(WaitSubscribed(broker, "it-03a"));
  constexpr int kN = 2000;
  {
    Publisher pub(broker.port(), "pub-03a");
    for (int i = 0; i < kN / 2; ++i) pub.Publish(TopicFor(i), Numbered(i));
  }
  broker.Stop();
  broker.Start();
  {
    // Published while vigil is still reconnecting: queued for its persistent session.
    Publisher pub(broker.port(), "pub-03a");
    for (int i = kN / 2; i < kN; ++i) pub.Publish(TopicFor(i), Numbered(i));
  }
  EXPECT_TRUE(WaitSubscribed(broker, "it-03a", 2, 30000)) << "vigil did not resubscribe";
  // Stop while the queued messages may still be flowing: the rest stays queued at the broker.
  vigil.Signal(SIGTERM);
  ASSERT_EQ(vigil.Wait(15000), 0);
  // Messages still queued at the broker when vigil stopped arrive at the next start.
  Process again = StartVigil(data, broker.port(), "it-03a");
  ASSERT_TRUE(WaitSubscribed(broker, "it-03a", 3));
  WaitFor([&] { return SeqsInLake(data).size() >= static_cast<size_t>(kN); }, 15000);
  again.Signal(SIGTERM);
  ASSERT_EQ(again.Wait(15000), 0);
  ExpectAll(SeqsInLake(data), kN, ReadFileOrDie(data + ".log") + ReadFileOrDie(broker.log_path()));
}

// Publishes numbered QoS 1 messages over `machines` machines (vibration and temperature:
// 2 x machines streams) while vigil is killed with SIGKILL at random moments; every
// acknowledged message must be in the lake at the end, and nothing left unpublished.
void Kill9Loop(const std::string& client, int n, int machines) {
  TempDir tmp;
  Mosquitto broker(tmp.path());
  std::string data = tmp.path() + "/data";
  std::atomic<bool> done{false};
  Process vigil = StartVigil(data, broker.port(), client, {"--log-level", "warn"});
  ASSERT_TRUE(WaitSubscribed(broker, client));

  std::thread publisher([&] {
    Publisher pub(broker.port(), "pub-" + client);
    for (int i = 0; i < n; ++i) {
      pub.Publish(TopicFor(i, machines), Numbered(i, machines));  // returns after the broker's PUBACK
    }
    done = true;
  });
  std::mt19937 rng(20261125);
  int kills = 0;
  while (!done && kills < 12) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 400)(rng)));
    vigil.Signal(SIGKILL);
    vigil.Wait(5000);
    ++kills;
    vigil = StartVigil(data, broker.port(), client, {"--log-level", "warn"});
  }
  publisher.join();
  // Let the last run drain the session, then stop it cleanly.
  WaitFor([&] { return SeqsInLake(data).size() >= static_cast<size_t>(n); }, 30000);
  vigil.Signal(SIGTERM);
  ASSERT_EQ(vigil.Wait(15000), 0) << ReadFileOrDie(data + ".log");
  EXPECT_GE(kills, 3) << "the publisher finished too early to test much";
  ExpectAll(SeqsInLake(data), n, ReadFileOrDie(data + ".log"));
  // No segment or log is left unpublished and every line is whole JSON.
  for (const std::string& f : ListFiles(data + "/lake")) {
    EXPECT_EQ(f.find("/."), std::string::npos) << f;
    EXPECT_NE(f.rfind(".wal/", 0), 0u) << f;
  }
  for (const std::string& l : ReadAllLines(data + "/lake")) {
    EXPECT_TRUE(l.size() > 2 && l.front() == '{' && l.back() == '}') << l;
  }
}

TEST(ResilienceIntegration, Kill9AtRandomMomentsLosesNothing) { Kill9Loop("it-03b", 20000, 7); }

// A wide plant: 3,000 interleaved streams through the same kill -9 loop.
TEST(ResilienceIntegration, Kill9WithThreeThousandStreamsLosesNothing) { Kill9Loop("it-03c", 20000, 1500); }

}  // namespace
}  // namespace vigil::testing
