// Alerts and predictions over MQTT, end to end on a real mosquitto: readings go through
// `vigil run` (ingest, processing, scoring every second), and the alert messages the
// daemon publishes are exactly the expected ones: a zone entered is alerted once, a
// vibration hovering inside the hysteresis band is not; each machine's newest prediction
// is retained. The probability side of the same logic is covered by a scripted sequence
// through vigil.db's alerts table and the daemon's outbox.
#include <gtest/gtest.h>
#include <mqtt/client.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <sqlite3.h>

#include "common/timestamp.h"
#include "integration/harness.h"
#include "model/alerts.h"
#include "model/outbox.h"
#include "model/registry.h"
#include "test_util.h"
#include "vigil/clock.h"

namespace vigil::testing {
namespace {

// Collects the messages of a topic filter (QoS 1) on its own session. Each listener has a
// client id of its own: two with one id would take each other's session over (the broker
// drops the older connection), which failed a test with "MQTT error [-11]".
class Listener {
 public:
  Listener(int port, const std::string& filter)
      : client_("tcp://127.0.0.1:" + std::to_string(port), "listener-" + std::to_string(port) + "-" + std::to_string(++count_),
                static_cast<mqtt::iclient_persistence*>(nullptr)) {
    client_.connect(mqtt::connect_options_builder().clean_session(true).finalize());
    client_.start_consuming();
    client_.subscribe(filter, 1);
  }
  ~Listener() {
    try {
      client_.disconnect();
    } catch (...) {
    }
  }
  // Everything received until quiet_ms pass without a message, or max_ms in all (a topic
  // the daemon republishes every scoring run is never quiet).
  std::vector<std::pair<std::string, std::string>> Drain(int quiet_ms, int max_ms = 60'000) {
    std::vector<std::pair<std::string, std::string>> out;
    mqtt::const_message_ptr m;
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_ms);
    while (std::chrono::steady_clock::now() < end && client_.try_consume_message_for(&m, std::chrono::milliseconds(quiet_ms))) {
      if (m) out.emplace_back(m->get_topic(), m->to_string());
    }
    return out;
  }

 private:
  static inline int count_ = 0;
  mqtt::client client_;
};

TEST(AlertsIntegration, ZoneAlertsFromTheDaemonOncePerEntryNoneWhileHovering) {
  TempDir tmp;
  Mosquitto broker(tmp.path());
  const std::string data = tmp.path() + "/data";
  const int http = FreePort();
  WriteFileOrDie(tmp.path() + "/v.toml", "[lake]\nsegment_max_age = \"1s\"\n[processing]\ninterval = \"1s\"\n");
  Process vigil = StartVigil(data, broker.port(), "it-15",
                             {"--config", tmp.path() + "/v.toml", "--http-listen", "127.0.0.1:" + std::to_string(http)});
  ASSERT_TRUE(WaitSubscribed(broker, "it-15"));
  Listener alerts(broker.port(), "industrial/machine/+/alert");
  Publisher pub(broker.port(), "pub-15");
  // Vibration per step; each step waits until the daemon has processed and scored it.
  // 2.0 good, 4.8 watch (alert), 4.4 4.6 4.35 hover in the 0.2 band (none), 7.6 unsat
  // (alert), 7.0 hover (none), 6.8 back to watch (no alert for falling), 7.3 unsat (alert).
  const std::vector<double> steps = {2.0, 4.8, 4.4, 4.6, 4.35, 7.6, 7.0, 6.8, 7.3};
  const int64_t t0 = SystemClock::Instance().NowMs() - 60'000;
  for (size_t i = 0; i < steps.size(); ++i) {
    const int64_t ts = t0 + static_cast<int64_t>(i) * 1000;
    char payload[160];
    std::snprintf(payload, sizeof payload, R"({"machine_id":"M1","timestamp_utc":"%s","vibration_rms":%g})",
                  FormatTimestampMs(ts).c_str(), steps[i]);
    pub.Publish("industrial/machine/M1/telemetry/vibration", payload);
    const std::string want = "\"newest_window_ms\":" + std::to_string(ts / 1000 * 1000);
    ASSERT_TRUE(WaitFor([&] { return HttpGet(http, "/api/machines/M1").second.find(want) != std::string::npos; }, 15000))
        << "step " << i << ": " << HttpGet(http, "/api/machines/M1").second;
    // One more scheduler run after the processing of this step: the scoring has happened.
    const double runs = MetricValue(HttpGet(http, "/metrics").second, "vigil_processor_runs_total");
    ASSERT_TRUE(WaitFor([&] { return MetricValue(HttpGet(http, "/metrics").second, "vigil_processor_runs_total") >= runs + 1; }, 10000));
  }
  std::vector<std::string> levels;
  for (const auto& [topic, payload] : alerts.Drain(3000)) {
    EXPECT_EQ(topic, "industrial/machine/M1/alert");
    const size_t at = payload.find("\"level\":\"");
    levels.push_back(payload.substr(at + 9, payload.find('"', at + 9) - at - 9));
    EXPECT_NE(payload.find("\"kind\":\"iso_zone\""), std::string::npos) << payload;
  }
  EXPECT_EQ(levels, (std::vector<std::string>{"watch", "unsatisfactory", "unsatisfactory"}));
  EXPECT_NE(HttpGet(http, "/api/alerts?machine=M1").second.find("\"level\":\"watch\""), std::string::npos);
  EXPECT_EQ(MetricValue(HttpGet(http, "/metrics").second, "vigil_alerts_raised_total"), 3);

  // The newest prediction is retained: a late subscriber still gets it (no model yet:
  // probability null, the anomaly score and the zone are there). The daemon republishes
  // it every scoring run (every second here), so the topic is never quiet: 2 s of it.
  Listener late(broker.port(), "industrial/machine/M1/prediction");
  auto got = late.Drain(2000, 2000);
  ASSERT_FALSE(got.empty());
  EXPECT_NE(got.back().second.find(R"("failure_probability_7d":null,"model_id":null,"iso10816_zone":"unsatisfactory")"),
            std::string::npos) << got.back().second;
  EXPECT_NE(got.back().second.find("\"anomaly_score\":"), std::string::npos);
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(15000), 0) << ReadFileOrDie(data + ".log");
}

// The scorer's half: a scripted sequence of probabilities gives exactly three alert rows
// (none while hovering in the bands, a new one after leaving them); the outbox's half: rows written while no outbox
// runs (a crash after the commit) are published when one starts, once, and a restarted
// outbox does not send them again.
TEST(AlertsIntegration, ScriptedProbabilitiesGiveExactlyTheExpectedAlertMessages) {
  TempDir tmp;
  Mosquitto broker(tmp.path());
  Listener alerts(broker.port(), "industrial/machine/+/alert");
  Config config;
  config.mqtt.port = broker.port();
  config.mqtt.client_id = "it-15b";
  config.data_dir = tmp.path() + "/data";
  std::filesystem::create_directories(config.data_dir);
  const std::string db_path = config.data_dir + "/vigil.db";
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &raw), SQLITE_OK);
  sqlite3_close(raw);
  Result<model::Db> db = model::Db::Open(db_path);
  ASSERT_TRUE(db) << db.error().message();
  model::AlertLevels levels;
  // Hovering around warning (0.5, band 0.05) and critical (0.8): one alert each; after
  // falling below the band (0.3), reaching warning again is a new alert.
  const std::vector<double> probs = {0.2, 0.55, 0.48, 0.52, 0.46, 0.49, 0.81, 0.77, 0.79, 0.83, 0.3, 0.47, 0.6};
  for (size_t i = 0; i < probs.size(); ++i) {
    model::LatestPrediction p;
    p.machine_id = "PUMP-7";
    p.window_start_ms = 1760486400000 + static_cast<int64_t>(i) * 1000;
    p.probability = probs[i];
    p.model_id = 1;
    for (const model::Alert& a : model::NextAlerts(p, config, &levels)) {
      ASSERT_TRUE(model::InsertAlert(*db, a).ok());
    }
  }
  auto unpublished = [&] {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db->get(), "SELECT count(*) FROM alerts WHERE published = 0", -1, &st, nullptr);
    sqlite3_step(st);
    const int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
  };
  ASSERT_EQ(unpublished(), 3);
  {
    model::Outbox outbox(config, SystemClock::Instance());
    outbox.Start();  // looks at the table when it starts
    auto got = alerts.Drain(3000);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].second,
              R"({"machine_id":"PUMP-7","timestamp_utc":"2025-10-15T00:00:01.000Z","kind":"failure_probability",)"
              R"("level":"warning","value":0.55,"message":"failure probability within 7 days 0.55 >= warning threshold 0.5",)"
              R"("rul_hours":null})");
    EXPECT_NE(got[1].second.find(R"("timestamp_utc":"2025-10-15T00:00:06.000Z","kind":"failure_probability","level":"critical","value":0.81)"),
              std::string::npos) << got[1].second;
    EXPECT_NE(got[2].second.find(R"("timestamp_utc":"2025-10-15T00:00:12.000Z","kind":"failure_probability","level":"warning","value":0.6)"),
              std::string::npos) << got[2].second;
    EXPECT_TRUE(WaitFor([&] { return unpublished() == 0; }, 5000));
    EXPECT_EQ(outbox.Stats().published, 3u);
  }
  model::Outbox restarted(config, SystemClock::Instance());
  restarted.Start();
  restarted.AlertsWritten();
  EXPECT_TRUE(alerts.Drain(2000).empty()) << "published alerts were sent again";
}

}  // namespace
}  // namespace vigil::testing
