// vigil run's HTTP endpoints: /metrics is well-formed Prometheus text whose counters match
// what the test published; /readyz follows the broker connection.
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>
#include <set>
#include <sstream>

#include "common/timestamp.h"
#include "integration/harness.h"
#include "test_util.h"
#include "vigil/clock.h"

namespace vigil::testing {
namespace {

TEST(HttpIntegration, MetricsMatchWhatWasPublishedAndReadyzFollowsTheBroker) {
  TempDir tmp;
  Mosquitto broker(tmp.path());
  const int http_port = FreePort();
  std::string data = tmp.path() + "/data";
  // Fast schedules so that the processor and retention figures move within the test.
  WriteFileOrDie(tmp.path() + "/v.toml",
                 "[lake]\nsegment_max_age = \"1s\"\n[processing]\ninterval = \"1s\"\n[retention]\ninterval = \"1s\"\n");
  Process vigil = StartVigil(data, broker.port(), "it-11",
                             {"--config", tmp.path() + "/v.toml", "--http-listen", "127.0.0.1:" + std::to_string(http_port)});
  ASSERT_TRUE(WaitSubscribed(broker, "it-11"));
  ASSERT_TRUE(WaitFor([&] { return HttpGet(http_port, "/healthz").first == 200; }, 5000));
  ASSERT_TRUE(WaitFor([&] { return HttpGet(http_port, "/readyz").first == 200; }, 5000));
  {
    Publisher pub(broker.port(), "pub-11");
    const int64_t now = SystemClock::Instance().NowMs();
    for (int i = 0; i < 7; ++i) {
      const std::string ts = FormatTimestampMs(now - (7 - i) * 1000);  // 7 distinct readings
      pub.Publish("industrial/machine/M1/telemetry/vibration",
                  R"({"machine_id":"M1","timestamp_utc":")" + ts + R"(","vibration_rms":1})");
    }
    for (int i = 0; i < 3; ++i) pub.Publish("industrial/machine/M1/telemetry/vibration", "not json");
  }
  std::string metrics;
  ASSERT_TRUE(WaitFor([&] {
    metrics = HttpGet(http_port, "/metrics").second;
    return MetricValue(metrics, "vigil_messages_received_total") == 10;
  }, 10000)) << metrics;
  // Well-formed exposition: each family is "# HELP f", "# TYPE f type", then its samples
  // name{labels} value, all contiguous; a sample belongs to the family typed just before it
  // (a summary's: f_sum and f_count); counters end in _total.
  static const std::regex kSample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? -?[0-9.eE+-]+$)");
  static const std::regex kType(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|summary|histogram|untyped)$)");
  std::istringstream in(metrics);
  int samples = 0;
  std::set<std::string> seen;  // families already started
  std::string family, type, helped;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (line.rfind("# HELP ", 0) == 0) {
      helped = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(seen.insert(helped).second) << "family " << helped << " is not contiguous";
      continue;
    }
    if (std::regex_match(line, m, kType)) {
      family = m[1], type = m[2];
      EXPECT_EQ(family, helped) << "TYPE right after its HELP: " << line;
      EXPECT_TRUE(type != "counter" || family.ends_with("_total")) << line;
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, m, kSample)) << line;
    const std::string name = m[1];
    EXPECT_TRUE(name == family || (type == "summary" && (name == family + "_sum" || name == family + "_count")))
        << name << " follows the HELP/TYPE of " << (family.empty() ? "no family" : family);
    ++samples;
  }
  EXPECT_GT(samples, 15);
  EXPECT_EQ(MetricValue(metrics, "vigil_messages_accepted_total"), 7);
  EXPECT_EQ(MetricValue(metrics, "vigil_messages_quarantined_total{reason=\"bad_json\"}"), 3);
  EXPECT_EQ(MetricValue(metrics, "vigil_broker_connected"), 1);
  EXPECT_GT(MetricValue(metrics, "vigil_disk_free_bytes"), 0);
  EXPECT_NE(HttpGet(http_port, "/api/status").second.find("\"accepted\":7"), std::string::npos);


  // The processor's figures and the JSON API: the 7 readings become M1's latest features.
  ASSERT_TRUE(WaitFor([&] {
    metrics = HttpGet(http_port, "/metrics").second;
    return MetricValue(metrics, "vigil_processor_readings_total") == 7 &&
           MetricValue(metrics, "vigil_lake_area_bytes{area=\"archive\"}") > 0;
  }, 20000)) << metrics;
  EXPECT_GE(MetricValue(metrics, "vigil_processor_batches_total"), 1);
  EXPECT_EQ(MetricValue(metrics, "vigil_processor_failed_runs_total"), 0);
  EXPECT_GT(MetricValue(metrics, "vigil_processor_last_success_timestamp_seconds"), 1.7e9);
  EXPECT_GT(MetricValue(metrics, "vigil_lake_area_bytes{area=\"quarantine\"}"), 0);  // the 3 bad_json lines
  EXPECT_EQ(MetricValue(metrics, "vigil_disk_low"), 0);
  auto [code, body] = HttpGet(http_port, "/api/machines");
  EXPECT_EQ(code, 200);
  EXPECT_NE(body.find(R"("machines":[{"machine_id":"M1")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("vibration_rms":1)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("iso10816_zone":"good")"), std::string::npos) << body;
  EXPECT_EQ(HttpGet(http_port, "/api/machines/M1").first, 200);
  auto [missing, why] = HttpGet(http_port, "/api/machines/NOPE-1");
  EXPECT_EQ(missing, 404);
  EXPECT_NE(why.find("no machine 'NOPE-1'"), std::string::npos) << why;

  broker.Stop();
  EXPECT_TRUE(WaitFor([&] { return HttpGet(http_port, "/readyz").first == 503; }, 10000));
  EXPECT_NE(HttpGet(http_port, "/readyz").second.find("broker"), std::string::npos);
  broker.Start();
  EXPECT_TRUE(WaitFor([&] { return HttpGet(http_port, "/readyz").first == 200; }, 30000));
  EXPECT_EQ(MetricValue(HttpGet(http_port, "/metrics").second, "vigil_broker_reconnects_total"), 1);
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(15000), 0);
}

}  // namespace
}  // namespace vigil::testing
