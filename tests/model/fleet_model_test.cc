// A fleet model on a gateway: the manifest's checks (each mismatch its own clear error)
// and the adoption by the gateway's own rule on a temporary vigil.db.
#include "model/fleet_model.h"

#include <gtest/gtest.h>

#include "common/data_paths.h"
#include "model/dataset.h"
#include "model/registry.h"
#include "model/trainer.h"
#include "store/feature_store.h"
#include "store/schema.h"
#include "test_util.h"
#include "upload/s3_client.h"
#include "vigil/clock.h"

namespace vigil::model {
namespace {

using vigil::testing::TempDir;

constexpr int64_t kT0 = 1760486400000;  // 2025-10-15T00:00:00Z
constexpr int64_t kHour = 3'600'000, kDay = 24 * kHour;

std::string ManifestJson(const Config& config, const std::string& sha, const std::string& extra = "") {
  std::string cols;
  for (const std::string& c : FeatureColumns(config)) cols += (cols.empty() ? "\"" : ",\"") + c + "\"";
  return R"({"format":"vigil-fleet-model/1","id":"fleet-20260101T000000000Z","model_key":"m/model.json",)"
         R"("model_sha256":")" + sha + R"(","columns":[)" + cols + R"(],"fingerprint":")" + store::Fingerprint(config) +
         R"(","xgboost_version":"1.7.4","train_rows":100,"train_positives":20,"model_bytes":5,)"
         R"("params":{"rounds":10},"evaluation":{"model":{"pr_auc":0.9}})" + extra + "}";
}

TEST(FleetManifestTest, ParsesAndPassesTheChecksOfTheSameConfig) {
  Config config;
  const std::string body = "hello";
  Result<FleetManifest> m = ParseFleetManifest(ManifestJson(config, upload::Sha256Hex(body)));
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->id, "fleet-20260101T000000000Z");
  EXPECT_EQ(m->columns, FeatureColumns(config));
  EXPECT_EQ(m->train_positives, 20);
  EXPECT_EQ(m->params_json, R"({"rounds":10})");
  EXPECT_OK(CheckFleetModel(*m, upload::Sha256Hex(body), 5, config));
}

TEST(FleetManifestTest, EachMismatchIsItsOwnError) {
  Config config;
  const std::string body = "hello";
  Result<FleetManifest> m = ParseFleetManifest(ManifestJson(config, upload::Sha256Hex(body)));
  ASSERT_TRUE(m) << m.error().message();

  Status s = CheckFleetModel(*m, upload::Sha256Hex("hellO"), 5, config);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("sha256 mismatch"), std::string::npos) << s.message();

  s = CheckFleetModel(*m, upload::Sha256Hex(body), 6, config);
  EXPECT_NE(s.message().find("size mismatch"), std::string::npos) << s.message();

  Config fewer = config;
  fewer.features.pop_back();  // other columns (and so another fingerprint): columns first
  s = CheckFleetModel(*m, upload::Sha256Hex(body), 5, fewer);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("feature columns mismatch"), std::string::npos) << s.message();

  Config window = config;
  window.processing.window_ms = 2000;  // same columns, other definitions
  s = CheckFleetModel(*m, upload::Sha256Hex(body), 5, window);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("config fingerprint mismatch"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("window=2000"), std::string::npos) << s.message();

  Config horizon = config;
  horizon.processing.label_horizon_ms = kDay;
  EXPECT_NE(CheckFleetModel(*m, upload::Sha256Hex(body), 5, horizon).message().find("fingerprint"), std::string::npos);
}

TEST(FleetManifestTest, RefusesWhatIsNotAManifest) {
  Config config;
  const std::string sha = upload::Sha256Hex("x");
  EXPECT_FALSE(ParseFleetManifest("not json"));
  EXPECT_FALSE(ParseFleetManifest("[1]"));
  std::string j = ManifestJson(config, sha);
  EXPECT_FALSE(ParseFleetManifest(std::string(j).replace(j.find("fleet-model/1"), 13, "fleet-model/9")));
  Result<FleetManifest> bad_sha = ParseFleetManifest(ManifestJson(config, "ABC"));
  ASSERT_FALSE(bad_sha);
  EXPECT_NE(bad_sha.error().message().find("model_sha256"), std::string::npos);
  Result<FleetManifest> no_cols = ParseFleetManifest(
      R"({"format":"vigil-fleet-model/1","id":"a","model_key":"k","model_sha256":")" + sha + R"(","fingerprint":"f"})");
  ASSERT_FALSE(no_cols);
  EXPECT_NE(no_cols.error().message().find("columns"), std::string::npos);
}

// 40 days, a row an hour; a failure every 8 days; the day before one, vibration is high.
void WriteHistory(const Config& config) {
  auto s = store::FeatureStore::Open(data_paths::Database(config.data_dir), config);
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_OK((*s)->Begin());
  for (int64_t t = kT0; t < kT0 + 40 * kDay; t += kHour) {
    const int64_t to_failure = 8 * kDay - (t - kT0) % (8 * kDay);
    const bool soon = to_failure <= kDay;
    store::FeatureRow r;
    r.window_start_ms = t;
    const double noise = static_cast<double>((t / kHour) % 7) / 10;
    r.sensor_values = {(soon ? 8.0 : 2.0) + noise, 40.0};
    r.features.assign(config.features.size(), std::nullopt);
    r.label = soon ? 1 : 0;
    ASSERT_OK((*s)->UpsertRow("M1", r));
    if (to_failure == kHour) {
      bool added = false;
      ASSERT_OK((*s)->InsertFailure("M1", t + kHour, "F", &added));
    }
  }
  ASSERT_OK((*s)->Commit());
}

TEST(FleetAdoptTest, PromotesByTheGatewaysRuleOnly) {
  TempDir tmp;
  Config config;
  config.data_dir = tmp.path();
  config.processing.label_horizon_ms = kDay;
  config.model.rounds = 10;
  ASSERT_NO_FATAL_FAILURE(WriteHistory(config));
  FakeClock clock(kT0 + 41 * kDay);
  // Two model files made by vigil train: a useful one and a useless one (shuffled labels).
  TrainOptions candidate;
  candidate.promote = false;
  Result<TrainReport> good = Train(config, clock, candidate);
  ASSERT_TRUE(good) << good.error().message();
  candidate.shuffle_labels = true;
  Result<TrainReport> useless = Train(config, clock, candidate);
  ASSERT_TRUE(useless) << useless.error().message();
  const std::string good_file = vigil::testing::ReadFileOrDie(good->file);
  const std::string useless_file = vigil::testing::ReadFileOrDie(useless->file);

  Result<FleetManifest> m = ParseFleetManifest(ManifestJson(config, upload::Sha256Hex(good_file)));
  ASSERT_TRUE(m) << m.error().message();
  m->id = "fleet-a";
  Result<AdoptReport> a = AdoptFleetModel(config, clock, *m, good_file);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_TRUE(a->promoted) << a->decision;
  EXPECT_FALSE(a->already);
  EXPECT_GT(a->rows, 0u);
  EXPECT_EQ(vigil::testing::ReadFileOrDie(data_paths::ModelFile(config.data_dir, a->model_id)), good_file);
  EXPECT_EQ(*FindFleetModel(config, "fleet-a"), a->model_id);

  // Pulled again: nothing new.
  Result<AdoptReport> again = AdoptFleetModel(config, clock, *m, good_file);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_TRUE(again->already);
  EXPECT_EQ(again->model_id, a->model_id);

  // A worse fleet model: registered, rejected, the current one stays.
  m->id = "fleet-b";
  Result<AdoptReport> b = AdoptFleetModel(config, clock, *m, useless_file);
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_FALSE(b->promoted) << b->decision;
  EXPECT_EQ(b->current_id, a->model_id);
  EXPECT_NE(b->decision.find("not promoted"), std::string::npos) << b->decision;
  Result<Db> db = Db::Open(data_paths::Database(config.data_dir));
  ASSERT_TRUE(db);
  Result<std::optional<ModelRecord>> cur = CurrentModel(*db);
  ASSERT_TRUE(cur && *cur);
  EXPECT_EQ((*cur)->id, a->model_id);
  Result<std::vector<ModelRecord>> all = ListModels(*db);
  ASSERT_TRUE(all);
  bool found = false;
  for (const ModelRecord& r : *all) {
    if (r.id == b->model_id) {
      found = true;
      EXPECT_EQ(r.status, "rejected");
      EXPECT_EQ(ModelColumns(r), FeatureColumns(config));
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace vigil::model

namespace vigil::model {
namespace {

TEST(FleetAnnouncementTest, ParsesIdShaAndManifestKey) {
  const std::string sha(64, 'a');
  Result<FleetAnnouncement> a = ParseFleetAnnouncement(
      R"({"id":"fleet-20261202T140000000Z","sha256":")" + sha + R"(","manifest_key":"p/models/x/manifest.json","x":1})");
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(a->id, "fleet-20261202T140000000Z");
  EXPECT_EQ(a->sha256, sha);
  EXPECT_EQ(a->manifest_key, "p/models/x/manifest.json");
  Result<FleetAnnouncement> only_id = ParseFleetAnnouncement(R"({"id":"fleet-1"})");
  ASSERT_TRUE(only_id.has_value());
  EXPECT_EQ(only_id->sha256, "");
}

TEST(FleetAnnouncementTest, EachProblemItsOwnError) {
  auto error = [](std::string_view payload) {
    Result<FleetAnnouncement> a = ParseFleetAnnouncement(payload);
    return a.has_value() ? std::string("parsed") : a.error().message();
  };
  EXPECT_NE(error("not json").find("not JSON"), std::string::npos);
  EXPECT_NE(error("[1]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error(R"({"sha256":"x"})").find("no string \"id\""), std::string::npos);
  EXPECT_NE(error(R"({"id":"../etc"})").find("does not match"), std::string::npos);
  EXPECT_NE(error(R"({"id":"a/b"})").find("does not match"), std::string::npos);
  EXPECT_NE(error(R"({"id":"fleet-1","sha256":"ABC"})").find("64 lower-case hex"), std::string::npos);
  EXPECT_NE(error(R"({"id":"fleet-1","manifest_key":5})").find("manifest_key is not a string"), std::string::npos);
  EXPECT_NE(error(std::string(70 * 1024, ' ')).find("64 KiB"), std::string::npos);
}

}  // namespace
}  // namespace vigil::model
