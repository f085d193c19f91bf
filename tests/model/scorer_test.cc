// The model stage's scoring on a temporary vigil.db: anomaly scores and zone alerts
// before any model, a promoted model scoring new and rewritten rows once, and the outbox's
// superseding of predictions (no broker: the thread is not started).
#include "model/scorer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "common/data_paths.h"
#include "model/booster.h"
#include "model/dataset.h"
#include "model/outbox.h"
#include "model/registry.h"
#include "model/trainer.h"
#include "store/feature_store.h"
#include "store/views.h"
#include "test_util.h"
#include "vigil/clock.h"

namespace vigil::model {
namespace {

using vigil::testing::TempDir;

constexpr int64_t kT0 = 1760486400000;  // 2025-10-15T00:00:00Z

class ScorerTest : public ::testing::Test {
 protected:
  void SetUp() override { config_.data_dir = tmp_.path(); }

  // n rows of machine m, one per second; vibration 2 +- 0.2, the last one `last_vibration`.
  void WriteRows(const std::string& m, int n, double last_vibration) {
    auto s = store::FeatureStore::Open(data_paths::Database(tmp_.path()), config_);
    ASSERT_TRUE(s) << s.error().message();
    for (int i = 0; i < n; ++i) {
      store::FeatureRow r;
      r.window_start_ms = kT0 + i * 1000;
      r.sensor_values = {i == n - 1 ? last_vibration : 2.0 + 0.2 * (i % 3 - 1), 40.0};
      r.features.assign(config_.features.size(), 1.0);
      r.label = i % 2;
      ASSERT_OK((*s)->UpsertRow(m, r));
    }
    ASSERT_OK((*s)->RefreshLatest(m));
  }

  // A small model on the configuration's columns, registered and promoted; returns its id.
  int64_t PromoteModel(std::vector<std::string> columns, const std::string& threshold = "") {
    const size_t cols = columns.size();
    std::vector<float> x, y;
    for (int i = 0; i < 40; ++i) {
      for (size_t c = 0; c < cols; ++c) x.push_back(static_cast<float>(i % 2 ? 10 + c : c));
      y.push_back(static_cast<float>(i % 2));
    }
    Result<Booster> b = Booster::Train(x, cols, y, {}, {{"objective", "binary:logistic"}, {"nthread", "1"}}, 3);
    EXPECT_TRUE(b) << b.error().message();
    Result<Db> db = Db::Open(data_paths::Database(tmp_.path()));
    EXPECT_TRUE(db) << db.error().message();
    ModelRecord m;
    m.created_ms = kT0;
    m.status = "candidate";
    m.params_json = "{\"columns\":[";
    for (size_t i = 0; i < cols; ++i) m.params_json += (i ? ",\"" : "\"") + columns[i] + "\"";
    m.params_json += "]" + (threshold.empty() ? std::string() : ",\"threshold\":" + threshold) + "}";
    m.id = *InsertModel(*db, m);
    std::filesystem::create_directories(data_paths::ModelsDir(tmp_.path()));
    m.file = data_paths::ModelFile(tmp_.path(), m.id);
    EXPECT_OK(b->Save(m.file));
    EXPECT_OK(UpdateModel(*db, m));
    EXPECT_OK(Promote(*db, m.id, kT0));
    return m.id;
  }

  TempDir tmp_;
  Config config_;
};

TEST_F(ScorerTest, WithoutVigilDbThereIsNothingToScore) {
  Result<ScoreSummary> r = ScoreNew(config_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
}

TEST_F(ScorerTest, BeforeAnyModelAnomalyScoresAndOneZoneAlertThatIsNotRepeated) {
  WriteRows("M1", 30, 12.0);  // the newest window in ISO zone critical (> 11.2 mm/s)
  Result<ScoreSummary> r = ScoreNew(config_);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->model_id, 0);
  EXPECT_EQ(r->rows_scored, 0);
  ASSERT_EQ(r->latest.size(), 1u);
  EXPECT_EQ(r->latest[0].window_start_ms, kT0 + 29'000);
  EXPECT_FALSE(r->latest[0].probability);
  EXPECT_GT(r->latest[0].anomaly_score, 3.0);
  EXPECT_EQ(r->latest[0].vibration, 12.0);
  ASSERT_EQ(r->alerts.size(), 1u);
  EXPECT_EQ(r->alerts[0].kind, "iso_zone");
  EXPECT_EQ(r->alerts[0].level, "critical");
  // Nothing new: the stored latest row stands, and the level is remembered (no repeat).
  const double score = r->latest[0].anomaly_score;
  r = ScoreNew(config_);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->alerts.empty());
  ASSERT_EQ(r->latest.size(), 1u);
  EXPECT_EQ(r->latest[0].anomaly_score, score);
  EXPECT_EQ(store::ReadAlerts(data_paths::Database(tmp_.path()), "M1", 10).size(), 1u);
  Result<store::StoreStatus> st = store::ReadStatus(data_paths::Database(tmp_.path()), config_, false);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->machines[0].anomaly_score, score);
}

// Beyond 1,024 windows the baseline is 32 runs of 32 windows, at multiples of a step (here
// 64 s of 1 s windows: [0, 32) s, [64, 96) s, ...); within 1,024 windows, every window.
TEST_F(ScorerTest, ALongAnomalyBaselineIsAnAlignedSampleOfRunsAShortOneEveryWindow) {
  auto value = [](int i) { return i % 64 < 32 ? 2.0 + 0.1 * (i % 5) : 12.0 + i % 7; };  // kT0: a multiple of 64 s
  auto write = [&](int from, int to) {
    auto s = store::FeatureStore::Open(data_paths::Database(tmp_.path()), config_);
    ASSERT_TRUE(s) << s.error().message();
    for (int i = from; i < to; ++i) {
      store::FeatureRow r;
      r.window_start_ms = kT0 + i * 1000;
      r.sensor_values = {value(i), 40.0};
      r.features.assign(config_.features.size(), 1.0);
      ASSERT_OK((*s)->UpsertRow("M1", r));
    }
    ASSERT_OK((*s)->RefreshLatest("M1"));
  };
  // The expected score: the vibration's robust z against the windows [newest - span, newest)
  // in the runs (the temperature is constant: z 0).
  auto expected = [&](int newest, int span, int every, int run) {
    std::vector<double> b;
    for (int i = newest - span; i < newest; ++i) {
      if (i >= 0 && i % every < run) b.push_back(value(i));
    }
    return std::fabs(RobustZ(value(newest), b));
  };
  write(0, 2100);
  config_.model.anomaly_baseline_ms = 2048 * 1000;
  Result<ScoreSummary> r = ScoreNew(config_);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->latest.size(), 1u);
  EXPECT_DOUBLE_EQ(r->latest[0].anomaly_score, expected(2099, 2048, 64, 32));
  EXPECT_NE(r->latest[0].anomaly_score, expected(2099, 2048, 1, 1));
  EXPECT_NE(r->latest[0].anomaly_score, expected(2099, 2048, 2, 1));

  config_.model.anomaly_baseline_ms = 1000 * 1000;
  write(2100, 2101);  // a new row: the machine is scored again
  r = ScoreNew(config_);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->latest.size(), 1u);
  EXPECT_DOUBLE_EQ(r->latest[0].anomaly_score, expected(2100, 1000, 1, 1));
  EXPECT_NE(r->latest[0].anomaly_score, expected(2100, 1000, 64, 32));
}

// A complete run of the baseline is cached (baseline_runs) and read from there by the next
// scoring; a features row written through the store drops the runs that end after it, so
// the next scoring reads them again and sees the new value.
TEST_F(ScorerTest, ABaselineRunIsCachedOnceCompleteAndReadAgainAfterARowInItIsWritten) {
  std::map<int, double> changed;  // window -> value that replaced value(i)
  auto value = [&](int i) {
    auto c = changed.find(i);
    // Distinct sampled values: one value moved across the median moves the score.
    return c != changed.end() ? c->second : i % 64 < 32 ? 2.0 + 0.001 * i : 12.0 + i % 7;
  };
  // Rows [from, to): one row through UpsertRow, more through UpsertRows (the processor's).
  auto write = [&](int from, int to) {
    auto s = store::FeatureStore::Open(data_paths::Database(tmp_.path()), config_);
    ASSERT_TRUE(s) << s.error().message();
    std::vector<store::FeatureRow> rows;
    for (int i = from; i < to; ++i) {
      store::FeatureRow& r = rows.emplace_back();
      r.window_start_ms = kT0 + i * 1000;
      r.sensor_values = {value(i), 40.0};
      r.features.assign(config_.features.size(), 1.0);
    }
    ASSERT_OK(rows.size() == 1 ? (*s)->UpsertRow("M1", rows[0]) : (*s)->UpsertRows("M1", rows, 0, rows.size()));
    ASSERT_OK((*s)->RefreshLatest("M1"));
  };
  auto expected = [&](int newest) {  // runs [64k, 64k + 32) s in [newest - 2048, newest)
    std::vector<double> b;
    for (int i = newest - 2048; i < newest; ++i) {
      if (i >= 0 && i % 64 < 32) b.push_back(value(i));
    }
    return std::fabs(RobustZ(value(newest), b));
  };
  auto score = [&] {
    Result<ScoreSummary> r = ScoreNew(config_);
    EXPECT_TRUE(r) << r.error().message();
    if (!r) return -1.0;
    EXPECT_EQ(r->latest.size(), 1u);
    return r->latest.empty() ? -1.0 : r->latest[0].anomaly_score;
  };
  Result<store::Db> db = store::Db::Open(data_paths::Database(tmp_.path()), store::OpenMode::kProcessor);
  ASSERT_TRUE(db) << db.error().message();
  auto runs = [&] {
    Result<store::Stmt> q = db->Prepare("SELECT count(*) FROM baseline_runs WHERE machine_id = 'M1'");
    if (!q) return int64_t{-1};
    Result<bool> row = q->Step();
    EXPECT_TRUE(row && *row);
    return q->Int(0);
  };
  config_.model.anomaly_baseline_ms = 2048 * 1000;
  write(0, 2100);
  EXPECT_DOUBLE_EQ(score(), expected(2099));
  EXPECT_EQ(runs(), 32);  // [64, 96) s ... [2048, 2080) s: all complete before 2099 s

  // Behind the store's back (never done by vigil): the cached run still says 2.14.
  changed[140] = 1000.0;
  const double with_1000 = expected(2100);
  changed.erase(140);
  ASSERT_NE(with_1000, expected(2100));  // the test can tell the two apart
  ASSERT_OK(db->Exec("UPDATE features SET vibration_rms = 1000 WHERE machine_id = 'M1' AND window_start_ms = " +
                     std::to_string(kT0 + 140'000)));
  write(2100, 2101);  // a new newest row (scored again); it ends no cached run
  EXPECT_DOUBLE_EQ(score(), expected(2100));

  // Through the store (as the processor writes late data): the runs from [128, 160) s on
  // are dropped and read again, with both new values.
  changed[130] = 900.0;
  write(130, 132);
  EXPECT_EQ(runs(), 1);  // [64, 96) s ends before 130 s
  changed[140] = 1000.0;
  write(2101, 2102);
  const double z = score();
  EXPECT_DOUBLE_EQ(z, expected(2101));
  changed.erase(140);
  EXPECT_NE(z, expected(2101));
  changed[140] = 1000.0;
  EXPECT_EQ(runs(), 32);

  // One row: the runs that end after it go ([1984, 2016) s and [2048, 2080) s).
  write(2000, 2001);
  EXPECT_EQ(runs(), 30);

  // Runs cached for another sensor list are read again from features.
  write(2102, 2103);
  const double stale = expected(2102);
  changed[150] = 1000.0;
  ASSERT_NE(stale, expected(2102));
  ASSERT_OK(db->Exec("UPDATE features SET vibration_rms = 1000 WHERE machine_id = 'M1' AND window_start_ms = " +
                     std::to_string(kT0 + 150'000)));
  ASSERT_OK(db->Exec("UPDATE baseline_runs SET sensors = 'temperature_celsius,vibration_rms'"));
  EXPECT_DOUBLE_EQ(score(), expected(2102));
}

TEST_F(ScorerTest, APromotedModelScoresNewRowsOnceAndRewrittenRowsAgain) {
  WriteRows("M1", 20, 2.0);
  WriteRows("M2", 10, 2.0);
  const int64_t id = PromoteModel(FeatureColumns(config_));
  Result<ScoreSummary> r = ScoreNew(config_);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->warning.empty()) << r->warning;
  EXPECT_EQ(r->model_id, id);
  EXPECT_EQ(r->rows_scored, 30);
  ASSERT_EQ(r->latest.size(), 2u);
  for (const LatestPrediction& p : r->latest) {
    ASSERT_TRUE(p.probability);
    EXPECT_GE(*p.probability, 0.0);
    EXPECT_LE(*p.probability, 1.0);
    EXPECT_EQ(p.model_id, id);
  }
  r = ScoreNew(config_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rows_scored, 0);
  ASSERT_EQ(r->latest.size(), 2u);
  EXPECT_TRUE(r->latest[0].probability);  // the stored one
  {
    // The processor rewrote M1's rows from the 15th on (late data): they are scored again.
    auto s = store::FeatureStore::Open(data_paths::Database(tmp_.path()), config_);
    ASSERT_TRUE(s);
    ASSERT_OK((*s)->MarkRescore("M1", kT0 + 15'000));
  }
  r = ScoreNew(config_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rows_scored, 5);
  r = ScoreNew(config_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rows_scored, 0);
  // A new model scores the whole history.
  const int64_t second = PromoteModel(FeatureColumns(config_));
  r = ScoreNew(config_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->model_id, second);
  EXPECT_EQ(r->rows_scored, 30);
}

TEST_F(ScorerTest, AModelOfOtherColumnsIsNotUsed) {
  WriteRows("M1", 5, 2.0);
  PromoteModel({"vibration_rms", "temperature_celsius"});
  Result<ScoreSummary> r = ScoreNew(config_);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->model_id, 0);
  EXPECT_EQ(r->rows_scored, 0);
  EXPECT_NE(r->warning.find("other features"), std::string::npos) << r->warning;
  ASSERT_EQ(r->latest.size(), 1u);
  EXPECT_FALSE(r->latest[0].probability);
}

// Issue 19: alerts warn at the threshold vigil train chose for the current model (in its
// params), unless model.warning_threshold sets one.
TEST_F(ScorerTest, AlertsWarnAtTheModelsChosenThresholdUnlessTheConfigSetsOne) {
  WriteRows("M1", 10, 2.0);
  PromoteModel(FeatureColumns(config_), "1e-06");  // below any probability of this model (< 0.8)
  Result<ScoreSummary> r = ScoreNew(config_);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->latest.size(), 1u);
  ASSERT_TRUE(r->latest[0].probability);
  ASSERT_LT(*r->latest[0].probability, 0.8);
  ASSERT_EQ(r->alerts.size(), 1u);
  EXPECT_EQ(r->alerts[0].kind, "failure_probability");
  EXPECT_EQ(r->alerts[0].level, "warning");
  EXPECT_NE(r->alerts[0].message.find("warning threshold 1e-06"), std::string::npos) << r->alerts[0].message;
}

TEST_F(ScorerTest, AConfiguredWarningThresholdOverridesTheModels) {
  config_.model.warning_threshold = 0.99;
  config_.model.critical_threshold = 0.999;
  WriteRows("M1", 10, 2.0);
  PromoteModel(FeatureColumns(config_), "1e-06");
  Result<ScoreSummary> r = ScoreNew(config_);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->latest[0].probability);
  ASSERT_LT(*r->latest[0].probability, 0.99);
  EXPECT_TRUE(r->alerts.empty()) << r->alerts[0].message;
}

// Issue 19: a promoted model with a remaining-useful-life model beside it (model.rul_cap)
// stores rul_hours with each prediction, in latest_predictions, in its probability alerts
// and in the status views; a model without one leaves them NULL.
TEST_F(ScorerTest, ARulModelBesideThePromotedOneAddsRulHoursEverywhereTheProbabilityGoes) {
  WriteRows("M1", 10, 2.0);
  PromoteModel(FeatureColumns(config_), "0.999999");  // no alert yet
  Result<ScoreSummary> r = ScoreNew(config_);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->latest.size(), 1u);
  ASSERT_TRUE(r->latest[0].probability);
  EXPECT_FALSE(r->latest[0].rul_hours);
  EXPECT_TRUE(r->alerts.empty());

  // The next model has a RUL model: 50 h on every row (non-negative by construction).
  const std::vector<std::string> cols = FeatureColumns(config_);
  const int64_t id = PromoteModel(cols, "1e-06");  // warns at once: an alert to carry the RUL
  std::vector<float> x, y;
  for (int i = 0; i < 40; ++i) {
    for (size_t c = 0; c < cols.size(); ++c) x.push_back(static_cast<float>(i % 2 ? 10 + c : c));
    y.push_back(50);
  }
  Result<Booster> rul = Booster::Train(x, cols.size(), y, {},
                                       {{"objective", "reg:squarederror"}, {"nthread", "1"}, {"base_score", "50"}}, 3);
  ASSERT_TRUE(rul) << rul.error().message();
  ASSERT_OK(rul->Save(RulModelFile(data_paths::ModelFile(tmp_.path(), id))));
  r = ScoreNew(config_);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->warning.empty()) << r->warning;
  EXPECT_EQ(r->model_id, id);
  EXPECT_EQ(r->rows_scored, 10);
  ASSERT_EQ(r->latest.size(), 1u);
  ASSERT_TRUE(r->latest[0].rul_hours);
  EXPECT_NEAR(*r->latest[0].rul_hours, 50, 1e-3);
  ASSERT_EQ(r->alerts.size(), 1u);
  EXPECT_EQ(r->alerts[0].kind, "failure_probability");
  ASSERT_TRUE(r->alerts[0].rul_hours);
  EXPECT_NEAR(*r->alerts[0].rul_hours, 50, 1e-3);

  Result<Db> db = Db::Open(data_paths::Database(tmp_.path()));
  ASSERT_TRUE(db) << db.error().message();
  Result<store::Stmt> q = db->Prepare("SELECT model_id, count(*), count(rul_hours), min(rul_hours) FROM predictions"
                               " GROUP BY model_id ORDER BY model_id");
  ASSERT_TRUE(q) << q.error().message();
  std::vector<std::vector<double>> rows;
  ASSERT_OK(q->ForEach([&](const store::Stmt& st) {
    rows.push_back({static_cast<double>(st.Int(0)), static_cast<double>(st.Int(1)), static_cast<double>(st.Int(2)),
                    st.IsNull(3) ? -1 : st.Double(3)});
  }));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][2], 0);   // the first model: no RUL, NULL
  EXPECT_EQ(rows[1][1], 10);
  EXPECT_EQ(rows[1][2], 10);  // the second: every row has its RUL
  EXPECT_NEAR(rows[1][3], 50, 1e-3);
  std::vector<store::Alert> stored = store::ReadAlerts(data_paths::Database(tmp_.path()), "M1", 10);
  ASSERT_EQ(stored.size(), 1u);
  ASSERT_TRUE(stored[0].rul_hours);
  EXPECT_NEAR(*stored[0].rul_hours, 50, 1e-3);

  // Scoring again with nothing new keeps the stored RUL (the latest row's).
  r = ScoreNew(config_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rows_scored, 0);
  ASSERT_TRUE(r->latest[0].rul_hours);
  EXPECT_NEAR(*r->latest[0].rul_hours, 50, 1e-3);
  Result<store::StoreStatus> status = store::ReadStatus(data_paths::Database(tmp_.path()), config_, false);
  ASSERT_TRUE(status) << status.error().message();
  ASSERT_EQ(status->machines.size(), 1u);
  ASSERT_TRUE(status->machines[0].rul_hours);
  EXPECT_NEAR(*status->machines[0].rul_hours, 50, 1e-3);
}

TEST(OutboxTest, ANewerPredictionSupersedesAnUnsentOne) {
  Config config;
  FakeClock clock(kT0);
  Outbox outbox(config, clock);  // not started: nothing is sent, no broker needed
  outbox.PushPredictions({{"p/M1/prediction", "{\"a\":1}", true}, {"p/M2/prediction", "{}", true}});
  outbox.PushPredictions({{"p/M1/prediction", "{\"a\":2}", true}});
  const OutboxStats st = outbox.Stats();
  EXPECT_EQ(st.superseded, 1u);
  EXPECT_EQ(st.published, 0u);
  EXPECT_EQ(st.failures, 0u);
}

}  // namespace
}  // namespace vigil::model
