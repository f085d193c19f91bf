#include "model/alerts.h"

#include <gtest/gtest.h>

namespace vigil::model {
namespace {

// Feeds probabilities (and vibrations) in order; returns "kind:level" of every alert.
std::vector<std::string> Script(const std::vector<std::optional<double>>& probs,
                                const std::vector<std::optional<double>>& vibs = {}) {
  Config config;  // model: warning 0.5, critical 0.8, hysteresis 0.05, zone band 0.2
  AlertLevels levels;
  std::vector<std::string> out;
  const size_t n = std::max(probs.size(), vibs.size());
  for (size_t i = 0; i < n; ++i) {
    LatestPrediction p;
    p.machine_id = "M1";
    p.window_start_ms = static_cast<int64_t>(i) * 1000;
    if (i < probs.size()) p.probability = probs[i];
    if (i < vibs.size()) p.vibration = vibs[i];
    for (const Alert& a : NextAlerts(p, config, &levels)) out.push_back(a.kind + ":" + a.level);
  }
  return out;
}

TEST(AlertsTest, ProbabilityCrossingRaisesOnceAndHoveringInsideTheBandIsSilent) {
  // Rises to warning, hovers between 0.46 and 0.54 (inside 0.5 - 0.05), no new alert.
  EXPECT_EQ(Script({0.1, 0.5, 0.47, 0.52, 0.46, 0.54, 0.451}), (std::vector<std::string>{"failure_probability:warning"}));
  // Leaving below the band and coming back raises again.
  EXPECT_EQ(Script({0.6, 0.44, 0.6}),
            (std::vector<std::string>{"failure_probability:warning", "failure_probability:warning"}));
  // Straight to critical: one critical alert; dropping to warning range and back inside
  // critical's band does not repeat it.
  EXPECT_EQ(Script({0.9, 0.76, 0.81, 0.6, 0.85}),
            (std::vector<std::string>{"failure_probability:critical", "failure_probability:critical"}));
}

TEST(AlertsTest, ExactlyAtTheThresholdCounts) {
  EXPECT_EQ(Script({0.8}), (std::vector<std::string>{"failure_probability:critical"}));
  EXPECT_TRUE(Script({0.4999}).empty());
}

TEST(AlertsTest, ZoneEnteringWatchUnsatisfactoryCriticalWithBand) {
  // 4.5 is still good; 4.6 watch; hovering 4.4..4.6 stays watch (band 0.2); 7.2 unsat;
  // 7.0 stays unsat (7.1 - 0.2 = 6.9); 6.8 back to watch silently; 7.2 unsat again; 11.3 critical.
  EXPECT_EQ(Script({}, {4.5, 4.6, 4.4, 4.6, 4.35, 7.2, 7.0, 7.15, 6.8, 7.2, 11.3}),
            (std::vector<std::string>{"iso_zone:watch", "iso_zone:unsatisfactory", "iso_zone:unsatisfactory",
                                      "iso_zone:critical"}));
}

TEST(AlertsTest, NoModelNoProbabilityAlerts) {
  EXPECT_TRUE(Script({std::nullopt, std::nullopt}, {1.0, 2.0}).empty());
}

TEST(AlertsTest, MessagesAreJson) {
  LatestPrediction p;
  p.machine_id = "PUMP-1";
  p.window_start_ms = 1760486400000;
  p.probability = 0.875;
  p.model_id = 3;
  p.vibration = 7.5;
  p.anomaly_score = 2.5;
  EXPECT_EQ(PredictionJson(p, 7 * 86'400'000LL),
            R"({"machine_id":"PUMP-1","timestamp_utc":"2025-10-15T00:00:00.000Z","failure_probability_7d":0.875,)"
            R"("model_id":3,"iso10816_zone":"unsatisfactory","anomaly_score":2.5,"rul_hours":null,)"
            R"("failure_probability":0.875,"horizon_hours":168})");
  Config config;
  AlertLevels levels;
  std::vector<Alert> a = NextAlerts(p, config, &levels);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(AlertJson(a[0]),
            R"({"machine_id":"PUMP-1","timestamp_utc":"2025-10-15T00:00:00.000Z","kind":"failure_probability",)"
            R"("level":"critical","value":0.875,"message":"failure probability within 7 days 0.875 >= critical threshold 0.8",)"
            R"("rul_hours":null})");
}

// Issue 19: the remaining useful life goes where the probability goes (the prediction
// message and the probability alert, not the zone alert), and the prediction message
// names its horizon (processing.label_horizon) beside the horizon-neutral alias.
TEST(AlertsTest, RulHoursAndTheHorizonInThePredictionAndAlertMessages) {
  LatestPrediction p;
  p.machine_id = "M1";
  p.window_start_ms = 1760486400000;
  p.probability = 0.9;
  p.model_id = 2;
  p.rul_hours = 41.5;
  p.vibration = 12.0;
  EXPECT_EQ(PredictionJson(p, 30 * 3'600'000LL),
            R"({"machine_id":"M1","timestamp_utc":"2025-10-15T00:00:00.000Z","failure_probability_7d":0.9,)"
            R"("model_id":2,"iso10816_zone":"critical","anomaly_score":0,"rul_hours":41.5,)"
            R"("failure_probability":0.9,"horizon_hours":30})");
  Config config;
  config.processing.label_horizon_ms = 30 * 3'600'000LL;
  AlertLevels levels;
  std::vector<Alert> a = NextAlerts(p, config, &levels);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].kind, "failure_probability");
  EXPECT_EQ(a[0].rul_hours, 41.5);
  EXPECT_NE(a[0].message.find("within 30 hours"), std::string::npos) << a[0].message;
  EXPECT_NE(AlertJson(a[0]).find(R"("rul_hours":41.5})"), std::string::npos) << AlertJson(a[0]);
  EXPECT_EQ(a[1].kind, "iso_zone");
  EXPECT_FALSE(a[1].rul_hours);
}

TEST(AlertsTest, TheProbabilityMessageNamesTheConfiguredHorizon) {
  LatestPrediction p;
  p.machine_id = "M1";
  p.probability = 0.9;
  const std::pair<int64_t, std::string> cases[] = {{2 * 86'400'000LL, "within 2 days 0.9"},
                                                   {86'400'000LL, "within 1 day 0.9"},
                                                   {36 * 3'600'000LL, "within 36 hours 0.9"},
                                                   {90 * 60'000LL, "within 90 minutes 0.9"},
                                                   {1'500, "within 1.5 seconds 0.9"}};
  for (const auto& [horizon, text] : cases) {
    Config config;
    config.processing.label_horizon_ms = horizon;
    AlertLevels levels;
    std::vector<Alert> a = NextAlerts(p, config, &levels);
    ASSERT_EQ(a.size(), 1u);
    EXPECT_NE(a[0].message.find(text), std::string::npos) << a[0].message;
    EXPECT_EQ(a[0].message.find("7 days"), std::string::npos) << a[0].message;
  }
}

}  // namespace
}  // namespace vigil::model
