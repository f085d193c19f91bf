// src/http/api.cc's parameter parsing and replies, without a server.
#include "http/api.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "common/data_paths.h"
#include "store/feature_store.h"
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
