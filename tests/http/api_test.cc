// src/http/api.cc's parameter parsing and replies, without a server.
#include "http/api.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "common/data_paths.h"
#include "store/feature_store.h"
#include "store/model_registry.h"
#include "store/predictions.h"
#include "test_util.h"

namespace vigil::http {
namespace {

using vigil::testing::TempDir;

constexpr int64_t kNow = 1760486400000;  // 2025-10-15T00:00:00Z
constexpr int64_t kDay = 86'400'000;

TEST(ApiParamsTest, DefaultsAreTheLastDayInAboutAThousandWindowMultiples) {
  Result<SeriesParams> p = ParseSeriesParams("", "", "", kNow, 1000);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->to_ms, kNow);
  EXPECT_EQ(p->from_ms, kNow - kDay);
  EXPECT_EQ(p->step_ms, 87'000);  // 86.4 s rounded up to whole 1 s windows
  p = ParseSeriesParams("", "", "", kNow, 60'000);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->step_ms, 120'000);
}

TEST(ApiParamsTest, TimesAreIsoOrEpochMillisecondsAndStepsDurationsOrMilliseconds) {
  Result<SeriesParams> p = ParseSeriesParams("2025-10-14T00:00:00Z", "1760486400000", "1m", kNow, 1000);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->from_ms, kNow - kDay);
  EXPECT_EQ(p->to_ms, kNow);
  EXPECT_EQ(p->step_ms, 60'000);
  p = ParseSeriesParams("0", "1000", "250", kNow, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->step_ms, 250);
}

TEST(ApiParamsTest, BadParametersSayWhatIsWrong) {
  auto error = [](const std::string& from, const std::string& to, const std::string& step) {
    Result<SeriesParams> p = ParseSeriesParams(from, to, step, kNow, 1000);
    EXPECT_FALSE(p);
    return p ? std::string() : p.error().message();
  };
  EXPECT_NE(error("yesterday", "", "").find("from='yesterday': expected ISO-8601 UTC or epoch milliseconds"),
            std::string::npos);
  EXPECT_NE(error("", "-5", "").find("outside 1970-01-01 .. 9999-12-31"), std::string::npos);
  EXPECT_NE(error("2000", "1000", "").find("must be before to"), std::string::npos);
  EXPECT_NE(error("", "", "fast").find("step='fast'"), std::string::npos);
  EXPECT_NE(error("", "", "0").find("step must be positive"), std::string::npos);
  EXPECT_NE(error("", "", "1").find("too many points"), std::string::npos);
  // A huge step is one bucket, not an overflow.
  EXPECT_TRUE(ParseSeriesParams("", "", "9223372036854775807", kNow, 1000));
}

TEST(ApiRepliesTest, AlertsAndSeriesCheckTheirParametersBeforeTheStore) {
  TempDir tmp;
  Config config;
  config.data_dir = tmp.path();
  EXPECT_EQ(AlertsReply(config, "bad id!", "").first, 400);
  for (const char* limit : {"0", "1001", "ten", "5x"}) {
    Reply r = AlertsReply(config, "", limit);
    EXPECT_EQ(r.first, 400) << limit;
    EXPECT_NE(r.second.find("expected 1 to 1000"), std::string::npos) << r.second;
  }
  // No vigil.db: no alerts yet (not an error), and no series.
  EXPECT_EQ(AlertsReply(config, "M1", "5"), (Reply{200, "{\"alerts\":[]}\n"}));
  EXPECT_EQ(SeriesReply(config, "M1", "", "", "", kNow).first, 404);
  EXPECT_EQ(SeriesReply(config, "../x", "", "", "", kNow).first, 400);
  EXPECT_EQ(SeriesReply(config, "M1", "x", "", "", kNow).first, 400);
  ASSERT_TRUE(store::FeatureStore::Open(data_paths::Database(tmp.path()), config));
  Reply unknown = SeriesReply(config, "M1", "", "", "", kNow);
  EXPECT_EQ(unknown.first, 404);
  EXPECT_NE(unknown.second.find("no machine 'M1'"), std::string::npos) << unknown.second;
}

// Issue 19: the machine list and the machine view carry rul_hours (null without a RUL
// model) and the horizon-neutral failure_probability with horizon_hours (the configured
// processing.label_horizon), beside the contract's failure_probability_7d; the alerts
// carry rul_hours too.
TEST(ApiRepliesTest, MachinesCarryRulHoursAndTheHorizonNeutralProbability) {
  TempDir tmp;
  Config config;
  config.data_dir = tmp.path();
  config.processing.label_horizon_ms = 30 * 3'600'000LL;
  {
    auto s = store::FeatureStore::Open(data_paths::Database(tmp.path()), config);
    ASSERT_TRUE(s) << s.error().message();
    for (const char* m : {"M1", "M2"}) {
      store::FeatureRow r;
      r.window_start_ms = kNow - 1000;
      r.sensor_values = {2.0, 40.0};
      r.features.assign(config.features.size(), std::nullopt);
      ASSERT_OK((*s)->UpsertRow(m, r));
      ASSERT_OK((*s)->RefreshLatest(m));
    }
  }
  {
    Result<store::ModelDb> db = store::ModelDb::Open(data_paths::Database(tmp.path()));
    ASSERT_TRUE(db) << db.error().message();
    ASSERT_OK(db->Exec("INSERT INTO latest_predictions(machine_id, window_start_ms, model_id, failure_probability_7d,"
                       " anomaly_score, rul_hours) VALUES('M1', " + std::to_string(kNow - 1000) + ", 4, 0.625, 1.5, 41.5),"
                       " ('M2', " + std::to_string(kNow - 1000) + ", 4, 0.125, 0.5, NULL)"));
    ASSERT_OK(store::InsertAlert(*db, {"M1", kNow - 1000, "failure_probability", "warning", 0.625, "w", 41.5}));
  }
  simdjson::dom::parser parser;
  Reply list = MachinesReply(config, "", kNow);
  ASSERT_EQ(list.first, 200) << list.second;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(list.second).get(doc), simdjson::SUCCESS) << list.second;
  simdjson::dom::array machines = doc["machines"].get_array();
  ASSERT_EQ(machines.size(), 2u);
  simdjson::dom::element m1 = machines.at(0), m2 = machines.at(1);
  EXPECT_EQ(std::string_view(m1["machine_id"].get_string()), "M1");
  EXPECT_EQ(double(m1["failure_probability_7d"].get_double()), 0.625);  // the contract's name stays
  EXPECT_EQ(double(m1["failure_probability"].get_double()), 0.625);
  EXPECT_EQ(double(m1["horizon_hours"].get_double()), 30);
  EXPECT_EQ(double(m1["rul_hours"].get_double()), 41.5);
  EXPECT_TRUE(m2["rul_hours"].is_null()) << list.second;
  EXPECT_EQ(double(m2["failure_probability"].get_double()), 0.125);

  Reply one = MachinesReply(config, "M1", kNow);
  ASSERT_EQ(one.first, 200) << one.second;
  ASSERT_EQ(parser.parse(one.second).get(doc), simdjson::SUCCESS) << one.second;
  EXPECT_EQ(double(doc["rul_hours"].get_double()), 41.5);
  EXPECT_EQ(double(doc["horizon_hours"].get_double()), 30);

  Reply alerts = AlertsReply(config, "M1", "5");
  ASSERT_EQ(alerts.first, 200);
  ASSERT_EQ(parser.parse(alerts.second).get(doc), simdjson::SUCCESS) << alerts.second;
  simdjson::dom::array items = doc["alerts"].get_array();
  ASSERT_EQ(items.size(), 1u);
  simdjson::dom::element a0 = items.at(0);
  EXPECT_EQ(double(a0["rul_hours"].get_double()), 41.5);
}

TEST(ApiRepliesTest, ErrorsAreJson) {
  EXPECT_EQ(JsonError("a \"b\""), "{\"error\":\"a \\\"b\\\"\"}\n");
}

// Fuzzing (fuzz_http): a path id or parameter that is not UTF-8 was copied into the error
// message as it was, so the 400's body was not JSON. Inputs as the fuzzer found them.
TEST(ApiRepliesTest, ErrorsQuotingBytesThatAreNotUtf8AreStillJson) {
  Config config;
  config.data_dir = "/nonexistent/vigil-api-test";
  simdjson::dom::parser parser;
  for (const Reply& r : {MachinesReply(config, "\xff\xfe", kNow), SeriesReply(config, "M1", "\xc3", "", "", kNow),
                         AlertsReply(config, "", "1\xe2\x82")}) {
    EXPECT_EQ(r.first, 400);
    simdjson::dom::element doc;
    EXPECT_EQ(parser.parse(r.second).get(doc), simdjson::SUCCESS) << r.second;
  }
  EXPECT_EQ(MachinesReply(config, "\xff\xfe", kNow).second, "{\"error\":\"bad machine id '\\\\xff\\\\xfe'\"}\n");
  // Valid UTF-8 stays as it is.
  EXPECT_EQ(JsonError("caf\xc3\xa9 \xe2\x82\xac"), "{\"error\":\"caf\xc3\xa9 \xe2\x82\xac\"}\n");
}

}  // namespace
}  // namespace vigil::http
