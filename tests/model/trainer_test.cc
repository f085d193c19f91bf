// The promotion rule of `vigil train` on a temporary vigil.db: the first useful model is
// promoted, a worse one (shuffled labels) is not, and --no-promote only registers it.
#include "model/trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/data_paths.h"
#include "common/dir_lock.h"
#include "model/booster.h"
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

// A commissioning: four machines start together, 14 days of hourly rows, a horizon of 7
// days, each machine fails once in its second week. Rows in a machine's newest 7 days can
// only be labelled 1 yet: the time split's test period would hold positives only (the
// demo's "13337 positive of 13337 rows").
void WriteCommissioning(const Config& config) {
  auto s = store::FeatureStore::Open(data_paths::Database(config.data_dir), config);
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_OK((*s)->Begin());
  const int64_t end = kT0 + 14 * kDay;
  int k = 0;
  for (const char* m : {"M1", "M2", "M3", "M4"}) {
    const int64_t failure = kT0 + (10 + k++) * kDay + 5 * kHour;
    for (int64_t t = kT0; t < end; t += kHour) {
      store::FeatureRow r;
      r.window_start_ms = t;
      const bool soon = t < failure && failure <= t + 7 * kDay;
      const double noise = static_cast<double>((t / kHour) % 7) / 10;
      // Wear: vibration rises over the 8 days before the failure.
      const double wear = t < failure ? std::max(0.0, 1.0 - static_cast<double>(failure - t) / (8.0 * kDay)) : 0.0;
      r.sensor_values = {2.0 + 6.0 * wear + noise, 40.0};
      r.features.assign(config.features.size(), std::nullopt);
      if (soon) r.label = 1;
      else if (t + 7 * kDay <= end - kHour) r.label = 0;
      ASSERT_OK((*s)->UpsertRow(m, r));
    }
    bool added = false;
    ASSERT_OK((*s)->InsertFailure(m, failure, "F", &added));
    ASSERT_OK((*s)->SetWatermark(m, end - kHour));
  }
  ASSERT_OK((*s)->Commit());
}

TEST(TrainerTest, Issue19ACommissionedFleetIsEvaluatedByMachineAndSaysWhy) {
  TempDir tmp;
  Config config;
  config.data_dir = tmp.path();
  config.model.rounds = 10;
  ASSERT_NO_FATAL_FAILURE(WriteCommissioning(config));
  FakeClock clock(kT0 + 15 * kDay);
  Result<TrainReport> r = Train(config, clock, {});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->split, SplitKind::kMachine) << r->split_why;
  EXPECT_NE(r->split_why.find("the time split would not do"), std::string::npos) << r->split_why;
  ASSERT_EQ(r->test_machines.size(), 1u);
  EXPECT_GT(r->test_positives, 0u);
  EXPECT_LT(r->test_positives, r->test_rows);
  EXPECT_EQ(r->training_failures, 3);  // the three training machines' failures
  EXPECT_TRUE(r->promoted) << r->decision;
  ASSERT_TRUE(r->threshold.threshold) << r->threshold.why;
  EXPECT_TRUE(r->refit);
  EXPECT_GT(r->final_rows, r->train_rows);
  // The same data and seed: the same machines held out, and the same model is not worse
  // than the current one (which trained on these rows: its own held-out PR AUC, stored to
  // 6 decimals, stands in).
  Result<TrainReport> again = Train(config, clock, {});
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->test_machines, r->test_machines);
  EXPECT_TRUE(again->promoted) << again->decision;
  EXPECT_NE(again->decision.find("own held-out PR AUC"), std::string::npos) << again->decision;
  // model.split = "time" is taken as asked, and refused with the reason.
  config.model.split = "time";
  Result<TrainReport> by_time = Train(config, clock, {});
  ASSERT_FALSE(by_time);
  EXPECT_NE(by_time.error().message().find("does not do"), std::string::npos) << by_time.error().message();
  // Too few failures in all the data is said first: it is what to act on.
  config.model.min_failures = 100;
  Result<TrainReport> few = Train(config, clock, {});
  ASSERT_FALSE(few);
  EXPECT_NE(few.error().message().find("too few labelled failures to train: 4 failure(s)"), std::string::npos)
      << few.error().message();
}

// Issue 19: grouped k-fold by machine. Every machine is held out once; the evaluation, the
// threshold and the RUL figures are those of the pooled out-of-fold predictions; the final
// models fit all rows; the registry records the split, K and the folds' machines.
TEST(TrainerTest, Issue19KFoldHoldsEveryMachineOutOncePoolsTheFoldsAndRefits) {
  TempDir tmp;
  Config config;
  config.data_dir = tmp.path();
  config.model.rounds = 10;
  config.model.split = "machine_kfold";  // model.folds = 5 (the default) for 4 machines
  config.model.rul_cap_ms = 3 * kDay;
  ASSERT_NO_FATAL_FAILURE(WriteCommissioning(config));
  FakeClock clock(kT0 + 15 * kDay);
  // The current model was evaluated on one held-out machine: its figure is not set against
  // the pooled folds', whose base rate differs.
  config.model.split = "machine";
  Result<TrainReport> single_split = Train(config, clock, {});
  ASSERT_TRUE(single_split && single_split->promoted) << (single_split ? single_split->decision : "");
  config.model.split = "machine_kfold";
  Result<TrainReport> r = Train(config, clock, {});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_NE(r->decision.find("cannot be compared (it trained on rows of this test set and was evaluated by the machine split"),
            std::string::npos) << r->decision;
  EXPECT_EQ(r->split, SplitKind::kMachineKFold) << r->split_why;
  EXPECT_NE(r->split_why.find("4 folds, not 5"), std::string::npos) << r->split_why;
  ASSERT_EQ(r->folds.size(), 4u);
  std::vector<std::string> held;
  size_t rows = 0, positives = 0, rul_rows = 0;
  for (const TrainReport::FoldResult& f : r->folds) {
    ASSERT_EQ(f.machines.size(), 1u);
    held.push_back(f.machines[0]);
    rows += f.test_rows;
    positives += f.test_positives;
    rul_rows += f.rul_test_rows;
    EXPECT_GT(f.test_positives, 0u);
    EXPECT_LT(f.test_positives, f.test_rows);
    EXPECT_GT(f.roc_auc, 0.5);
    EXPECT_EQ(f.training_failures, 3);  // the other three machines' failures
    EXPECT_GT(f.rul_test_rows, 0u);
  }
  std::sort(held.begin(), held.end());
  EXPECT_EQ(held, (std::vector<std::string>{"M1", "M2", "M3", "M4"}));
  EXPECT_EQ(r->test_machines, held);
  // Pooled: every label-complete row held out once; the threshold chosen on all of them.
  Result<Dataset> d = LoadLabelled(data_paths::Database(tmp.path()), config, config.model.stride_ms, INT64_MIN,
                                   INT64_MAX, 3 * kDay);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(r->test_rows, d->rows());
  EXPECT_EQ(rows, d->rows());
  EXPECT_EQ(r->test_positives, positives);
  EXPECT_EQ(r->test_positives, static_cast<size_t>(std::count(d->y.begin(), d->y.end(), 1)));
  ASSERT_TRUE(r->threshold.threshold) << r->threshold.why;
  EXPECT_EQ(r->threshold.at.tp + r->threshold.at.fn, static_cast<int64_t>(r->test_positives));
  EXPECT_EQ(r->eval_threshold, *r->threshold.threshold);
  EXPECT_FALSE(r->curve.empty());
  EXPECT_EQ(r->training_failures, 3);
  EXPECT_TRUE(r->refit);
  EXPECT_EQ(r->final_rows, d->rows());
  ASSERT_TRUE(r->rul);
  const size_t known = static_cast<size_t>(
      std::count_if(d->rul_h.begin(), d->rul_h.end(), [](float h) { return !std::isnan(h); }));
  EXPECT_EQ(r->rul_test_rows, rul_rows);
  EXPECT_EQ(r->rul_test_rows, known);
  EXPECT_EQ(r->rul_final_rows, known);
  EXPECT_GT(r->rul_rmse_h, 0);
  EXPECT_TRUE(r->promoted) << r->decision;
  {
    Result<Db> db = Db::Open(data_paths::Database(tmp.path()));
    ASSERT_TRUE(db);
    Result<std::optional<ModelRecord>> current = CurrentModel(*db);
    ASSERT_TRUE(current && *current);
    const std::string& params = (*current)->params_json;
    EXPECT_NE(params.find("\"split\":\"machine_kfold\""), std::string::npos) << params;
    EXPECT_NE(params.find("\"test_machines\":[\"M1\",\"M2\",\"M3\",\"M4\"],\"folds\":4,"), std::string::npos) << params;
    const std::string& metrics = (*current)->metrics_json;
    EXPECT_NE(metrics.find("\"folds\":[{\"machines\":[\"" + r->folds[0].machines[0] + "\"],\"rows\":" +
                           std::to_string(r->folds[0].test_rows) + ","),
              std::string::npos) << metrics;
    EXPECT_EQ(ModelSplitKind(**current), "machine_kfold");
  }
  // The same data and seed: the same folds, and the same model is not worse than itself.
  Result<TrainReport> again = Train(config, clock, {});
  ASSERT_TRUE(again) << again.error().message();
  ASSERT_EQ(again->folds.size(), r->folds.size());
  for (size_t k = 0; k < r->folds.size(); ++k) EXPECT_EQ(again->folds[k].machines, r->folds[k].machines);
  EXPECT_EQ(*again->threshold.threshold, *r->threshold.threshold);
  EXPECT_TRUE(again->promoted) << again->decision;
  // model.refit = false is not honoured: no single evaluated model exists; the final one fits all rows.
  config.model.refit = false;
  Result<TrainReport> no_refit = Train(config, clock, {});
  ASSERT_TRUE(no_refit) << no_refit.error().message();
  EXPECT_TRUE(no_refit->refit);
  EXPECT_EQ(no_refit->final_rows, d->rows());
  // Fewer than two machines with a failure: refused, saying why.
  config.model.refit = true;
  TempDir one;
  config.data_dir = one.path();
  ASSERT_NO_FATAL_FAILURE(WriteHistory(config));  // one machine
  Result<TrainReport> single = Train(config, clock, {});
  ASSERT_FALSE(single);
  EXPECT_NE(single.error().message().find("machine_kfold"), std::string::npos) << single.error().message();
}

TEST(TrainerTest, TheChosenThresholdIsStoredWithTheModelAndInItsFile) {
  TempDir tmp;
  const Config config = TrainConfig(tmp.path());
  ASSERT_NO_FATAL_FAILURE(WriteHistory(config));
  FakeClock clock(kT0 + 81 * kDay);
  Result<TrainReport> r = Train(config, clock, {});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->split, SplitKind::kTime) << r->split_why;
  ASSERT_TRUE(r->threshold.threshold) << r->threshold.why;
  EXPECT_EQ(r->eval_threshold, *r->threshold.threshold);
  EXPECT_FALSE(r->curve.empty());
  Result<Db> db = Db::Open(data_paths::Database(tmp.path()));
  ASSERT_TRUE(db);
  Result<std::optional<ModelRecord>> current = CurrentModel(*db);
  ASSERT_TRUE(current && *current);
  ASSERT_TRUE(ModelThreshold(**current));
  EXPECT_NEAR(*ModelThreshold(**current), *r->threshold.threshold, 1e-8);
  Result<Booster> file = Booster::Load((*current)->file);
  ASSERT_TRUE(file) << file.error().message();
  ASSERT_TRUE(file->Attr(kAttrThreshold));
  EXPECT_NEAR(std::stod(*file->Attr(kAttrThreshold)), *r->threshold.threshold, 1e-8);
  EXPECT_EQ(file->Attr(kAttrColumns).value_or(""), "vibration_rms,temperature_celsius,vib_mean_5h,vib_std_5h,vib_max_5h,"
                                                    "temp_mean_24h,temp_max_24h");
  // Alerts: the model's threshold unless model.warning_threshold sets one.
  EXPECT_EQ(WarningThreshold(config.model, ModelThreshold(**current)), *ModelThreshold(**current));
  ModelConfig fixed = config.model;
  fixed.warning_threshold = 0.3;
  EXPECT_EQ(WarningThreshold(fixed, ModelThreshold(**current)), 0.3);
  EXPECT_EQ(WarningThreshold(config.model, std::nullopt), 0.5);
}

TEST(TrainerTest, ARulCapAlsoTrainsAnEvaluatedRemainingLifeModelBesideTheFile) {
  TempDir tmp;
  const Config config = TrainConfig(tmp.path());
  ASSERT_NO_FATAL_FAILURE(WriteHistory(config));
  FakeClock clock(kT0 + 81 * kDay);
  TrainOptions with_rul;
  with_rul.rul_cap_ms = 3 * kDay;
  Result<TrainReport> r = Train(config, clock, with_rul);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->rul);
  EXPECT_GT(r->rul_train_rows, 0u);
  EXPECT_GT(r->rul_test_rows, 0u);
  // Better than always predicting the cap's midpoint would be: the RMSE of a constant
  // guess of 36 h is at least the spread of the labels around it.
  EXPECT_GT(r->rul_rmse_h, 0);
  EXPECT_LT(r->rul_rmse_h, 36);
  EXPECT_EQ(r->rul_file, RulModelFile(r->file));
  Result<Booster> rul = Booster::Load(r->rul_file);
  ASSERT_TRUE(rul) << rul.error().message();
  EXPECT_EQ(rul->Attr("vigil_rul_cap_ms").value_or(""), std::to_string(3 * kDay));
  // Without a cap, no RUL model and no file.
  Result<TrainReport> p = Train(config, clock, {});
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_FALSE(p->rul);
  EXPECT_FALSE(std::filesystem::exists(RulModelFile(p->file)));
}

// Issue 19: model.rul_cap fits the RUL model without the flag (vigil run's retraining
// passes no options); the flag (TrainOptions::rul_cap_ms) wins over the key.
TEST(TrainerTest, TheRulCapKeyFitsTheRemainingLifeModelAndTheFlagOverridesIt) {
  TempDir tmp;
  Config config = TrainConfig(tmp.path());
  config.model.rul_cap_ms = 3 * kDay;
  ASSERT_NO_FATAL_FAILURE(WriteHistory(config));
  FakeClock clock(kT0 + 81 * kDay);
  Result<TrainReport> keyed = Train(config, clock, {});
  ASSERT_TRUE(keyed) << keyed.error().message();
  ASSERT_TRUE(keyed->rul);
  EXPECT_EQ(keyed->rul_cap_ms, 3 * kDay);
  ASSERT_TRUE(std::filesystem::exists(keyed->rul_file));
  Result<Booster> rul = Booster::Load(keyed->rul_file);
  ASSERT_TRUE(rul) << rul.error().message();
  EXPECT_EQ(rul->Attr("vigil_rul_cap_ms").value_or(""), std::to_string(3 * kDay));

  TrainOptions flag;
  flag.rul_cap_ms = 2 * kDay;
  Result<TrainReport> flagged = Train(config, clock, flag);
  ASSERT_TRUE(flagged) << flagged.error().message();
  ASSERT_TRUE(flagged->rul);
  EXPECT_EQ(flagged->rul_cap_ms, 2 * kDay);
  Result<Booster> rul2 = Booster::Load(flagged->rul_file);
  ASSERT_TRUE(rul2) << rul2.error().message();
  EXPECT_EQ(rul2->Attr("vigil_rul_cap_ms").value_or(""), std::to_string(2 * kDay));
}

// Without a vibration sensor there is no ISO 10816 zone: the baseline is not evaluated
// (nor stored as a row of zeros in the metrics).
TEST(TrainerTest, WithoutAVibrationSensorTheIsoBaselineIsSkipped) {
  TempDir tmp;
  Config config = TrainConfig(tmp.path());
  ASSERT_EQ(config.sensors.size(), 2u);
  config.sensors[0].name = "current";
  config.sensors[0].field = "current_a";
  config.features.clear();
  ASSERT_NO_FATAL_FAILURE(WriteHistory(config));
  FakeClock clock(kT0 + 81 * kDay);
  Result<TrainReport> r = Train(config, clock, {});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->evaluated);
  EXPECT_FALSE(r->iso_evaluated);
  Result<Db> db = Db::Open(data_paths::Database(tmp.path()));
  ASSERT_TRUE(db);
  Result<std::vector<ModelRecord>> all = ListModels(*db);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_NE((*all)[0].metrics_json.find("\"iso_rule\":null"), std::string::npos) << (*all)[0].metrics_json;

  // With the vibration sensor (the default configuration) it is.
  TempDir tmp2;
  const Config with_vib = TrainConfig(tmp2.path());
  ASSERT_NO_FATAL_FAILURE(WriteHistory(with_vib));
  Result<TrainReport> v = Train(with_vib, clock, {});
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_TRUE(v->iso_evaluated);
  EXPECT_GT(v->iso_rule.roc_auc, 0);
}

TEST(TrainerTest, Phm08ScorePunishesLatePredictionsMore) {
  EXPECT_DOUBLE_EQ(Phm08Score({10}, {10}), 0);
  EXPECT_NEAR(Phm08Score({0}, {13}), std::exp(1.0) - 1, 1e-12);   // 13 early
  EXPECT_NEAR(Phm08Score({20}, {10}), std::exp(1.0) - 1, 1e-12);  // 10 late: the same cost
  EXPECT_GT(Phm08Score({20}, {10}), Phm08Score({0}, {10}));
  EXPECT_EQ(RulModelFile("/d/models/model-3.json"), "/d/models/model-3-rul.json");
}

TEST(TrainerTest, TestFractionZeroTrainsOnEveryRowWithoutEvaluation) {
  TempDir tmp;
  Config config = TrainConfig(tmp.path());
  config.model.test_fraction = 0;
  ASSERT_TRUE(CheckConfig(config).ok());
  ASSERT_NO_FATAL_FAILURE(WriteHistory(config));
  FakeClock clock(kT0 + 81 * kDay);
  Result<TrainReport> r = Train(config, clock, {});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->evaluated);
  EXPECT_EQ(r->split, SplitKind::kNone);
  EXPECT_EQ(r->test_rows, 0u);
  EXPECT_EQ(r->final_rows, r->train_rows);
  EXPECT_EQ(r->train_rows, 80u * 24 - 24);  // every label-complete row
  EXPECT_FALSE(r->threshold.threshold);
  EXPECT_TRUE(r->promoted) << r->decision;
  EXPECT_NE(r->decision.find("not evaluated"), std::string::npos) << r->decision;
  // Not evaluated: it never replaces a current model by itself.
  Result<TrainReport> second = Train(config, clock, {});
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_FALSE(second->promoted) << second->decision;
}

// The newest horizon's positives have no negatives beside them yet: left out, counted.
TEST(TrainerTest, PositivesOfTheNewestHorizonAreLeftOutAndCounted) {
  TempDir tmp;
  const Config config = TrainConfig(tmp.path());
  ASSERT_NO_FATAL_FAILURE(WriteHistory(config));  // its last day is the day before a failure
  Result<Dataset> d = LoadLabelled(data_paths::Database(tmp.path()), config, kHour);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->censored, 24u);  // no watermark: the newest row's t (80 d - 1 h) is it
  EXPECT_EQ(d->rows(), 80u * 24 - 24);
  EXPECT_EQ(d->t.back(), kT0 + 79 * kDay - kHour);
  EXPECT_EQ(d->x.size(), d->rows() * d->columns.size());
  EXPECT_EQ(d->machine.size(), d->rows());
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
  EXPECT_NE(r.error().message().find("no label-complete rows"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace vigil::model
