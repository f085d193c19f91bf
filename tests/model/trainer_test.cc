// The promotion rule of `vigil train` on a temporary vigil.db: the first useful model is
// promoted, a worse one (shuffled labels) is not, and --no-promote only registers it.
#include "model/trainer.h"

#include <gtest/gtest.h>

#include "common/data_paths.h"
#include "model/registry.h"
#include "store/feature_store.h"
#include "test_util.h"
#include "vigil/clock.h"

namespace vigil::model {
namespace {

using vigil::testing::TempDir;

constexpr int64_t kT0 = 1760486400000;  // 2025-10-15T00:00:00Z
constexpr int64_t kHour = 3'600'000, kDay = 24 * kHour;

TEST(TrainerTest, PromotesAUsefulModelAndNotAWorseOne) {
  TempDir tmp;
  Config config;
  config.data_dir = tmp.path();
  config.processing.label_horizon_ms = kDay;
  config.model.rounds = 10;
  {
    // 80 days, a row an hour; a failure every 8 days; the day before one, vibration is high.
    auto s = store::FeatureStore::Open(data_paths::Database(tmp.path()), config);
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
