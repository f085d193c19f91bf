// The promotion rule of `vigil train` on a temporary vigil.db: the first useful model is
// promoted, a worse one (shuffled labels) is not, and --no-promote only registers it.
#include "model/trainer.h"

#include <gtest/gtest.h>

#include "common/data_paths.h"
#include "common/dir_lock.h"
#include "model/registry.h"
#include "store/feature_store.h"
#include "test_util.h"
#include "vigil/clock.h"

namespace vigil::model {
namespace {

using vigil::testing::TempDir;

constexpr int64_t kT0 = 1760486400000;  // 2025-10-15T00:00:00Z
constexpr int64_t kHour = 3'600'000, kDay = 24 * kHour;

// 80 days, a row an hour; a failure every 8 days; the day before one, vibration is high.
void WriteHistory(const Config& config) {
  {
    auto s = store::FeatureStore::Open(data_paths::Database(config.data_dir), config);
    ASSERT_TRUE(s) << s.error().message();
    ASSERT_OK((*s)->Begin());
    for (int64_t t = kT0; t < kT0 + 80 * kDay; t += kHour) {
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
}

Config TrainConfig(const std::string& dir) {
  Config config;
  config.data_dir = dir;
  config.processing.label_horizon_ms = kDay;
  config.model.rounds = 10;
  return config;
}

TEST(TrainerTest, PromotesAUsefulModelAndNotAWorseOne) {
  TempDir tmp;
  const Config config = TrainConfig(tmp.path());
  ASSERT_NO_FATAL_FAILURE(WriteHistory(config));
  FakeClock clock(kT0 + 81 * kDay);
  Result<TrainReport> first = Train(config, clock, {});
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_TRUE(first->promoted) << first->decision;
  EXPECT_EQ(first->decision, "promoted: the first model");
  EXPECT_GT(first->model.pr_auc, first->base_rate.pr_auc);
  EXPECT_GE(first->training_failures, 3);

  TrainOptions shuffled;
  shuffled.shuffle_labels = true;
  Result<TrainReport> worse = Train(config, clock, shuffled);
  ASSERT_TRUE(worse) << worse.error().message();
  EXPECT_FALSE(worse->promoted) << worse->decision;
  EXPECT_EQ(worse->current_id, first->model_id);

  TrainOptions candidate;
  candidate.promote = false;
  Result<TrainReport> third = Train(config, clock, candidate);
  ASSERT_TRUE(third) << third.error().message();
  EXPECT_FALSE(third->promoted);
  EXPECT_NE(third->decision.find("--no-promote"), std::string::npos) << third->decision;

  Result<Db> db = Db::Open(data_paths::Database(tmp.path()));
  ASSERT_TRUE(db);
  Result<std::optional<ModelRecord>> current = CurrentModel(*db);
  ASSERT_TRUE(current && *current);
  EXPECT_EQ((*current)->id, first->model_id);
  Result<std::vector<ModelRecord>> all = ListModels(*db);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].status, "promoted");
  EXPECT_EQ((*all)[1].status, "rejected");
  EXPECT_EQ((*all)[2].status, "candidate");
  EXPECT_EQ((*all)[2].file, data_paths::ModelFile(tmp.path(), (*all)[2].id));
}

// A current model tested on a later period (here: its split moved to the future) is not
// replaced by one tested on older data, and the decision says why.
TEST(TrainerTest, AModelTestedOnOlderDataIsNotPromotedOverOneTestedOnNewerData) {
  TempDir tmp;
  const Config config = TrainConfig(tmp.path());
  ASSERT_NO_FATAL_FAILURE(WriteHistory(config));
  FakeClock clock(kT0 + 81 * kDay);
  Result<TrainReport> first = Train(config, clock, {});
  ASSERT_TRUE(first && first->promoted) << (first ? first->decision : first.error().message());
  {
    Result<Db> db = Db::Open(data_paths::Database(tmp.path()));
    ASSERT_TRUE(db);
    ASSERT_OK(db->Exec("UPDATE models SET split_ms = split_ms + 30 * 86400000 WHERE id = " + std::to_string(first->model_id)));
  }
  Result<TrainReport> second = Train(config, clock, {});
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_FALSE(second->promoted) << second->decision;
  EXPECT_NE(second->decision.find("tested on older data"), std::string::npos) << second->decision;
  Result<Db> db = Db::Open(data_paths::Database(tmp.path()));
  ASSERT_TRUE(db);
  Result<std::optional<ModelRecord>> current = CurrentModel(*db);
  ASSERT_TRUE(current && *current);
  EXPECT_EQ((*current)->id, first->model_id);
  Result<std::vector<ModelRecord>> all = ListModels(*db);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].status, "rejected");
}

// A training that died leaves its row "training": the next start (of a training, or
// FailUnfinishedTrainings for vigil run and vigil models) marks it "failed", unless a
// training holds the train lock.
TEST(TrainerTest, ARowLeftTrainingIsMarkedFailedAtTheNextStart) {
  TempDir tmp;
  const Config config = TrainConfig(tmp.path());
  ASSERT_NO_FATAL_FAILURE(WriteHistory(config));
  auto insert_dead = [&] {
    Result<Db> db = Db::Open(data_paths::Database(tmp.path()));
    EXPECT_TRUE(db);
    ModelRecord m;
    m.created_ms = kT0;
    m.status = "training";
    Result<int64_t> id = InsertModel(*db, m);
    EXPECT_TRUE(id);
    return id ? *id : 0;
  };
  auto status_of = [&](int64_t id) {
    Result<Db> db = Db::Open(data_paths::Database(tmp.path()));
    Result<std::vector<ModelRecord>> all = ListModels(*db);
    for (const auto& m : *all) {
      if (m.id == id) return m.status;
    }
    return std::string("missing");
  };
  const int64_t dead = insert_dead();
  {
    // A training runs (it holds the lock): its row is left alone.
    Result<DirLock> running = DirLock::Acquire(data_paths::TrainLock(tmp.path()), "test training");
    ASSERT_TRUE(running);
    Result<int64_t> n = FailUnfinishedTrainings(config);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 0);
    EXPECT_EQ(status_of(dead), "training");
    FakeClock clock(kT0 + 81 * kDay);
    Result<TrainReport> refused = Train(config, clock, {});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), StatusCode::kUnavailable) << refused.error().message();
  }
  Result<int64_t> n = FailUnfinishedTrainings(config);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(status_of(dead), "failed");
  {
    Result<Db> db = Db::Open(data_paths::Database(tmp.path()));
    Result<std::vector<ModelRecord>> all = ListModels(*db);
    ASSERT_TRUE(all);
    EXPECT_NE((*all)[0].metrics_json.find("did not finish"), std::string::npos) << (*all)[0].metrics_json;
  }
  // And a training does it first.
  const int64_t dead2 = insert_dead();
  FakeClock clock(kT0 + 81 * kDay);
  Result<TrainReport> r = Train(config, clock, {});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(status_of(dead2), "failed");
  EXPECT_EQ(status_of(r->model_id), "promoted");
}

TEST(TrainerTest, WithoutLabelledRowsItSaysWhy) {
  TempDir tmp;
  Config config;
  config.data_dir = tmp.path();
  FakeClock clock(kT0);
  EXPECT_EQ(Train(config, clock, {}).error().code(), StatusCode::kNotFound);  // no vigil.db
  ASSERT_TRUE(store::FeatureStore::Open(data_paths::Database(tmp.path()), config));
  Result<TrainReport> r = Train(config, clock, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("no labelled rows"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace vigil::model
