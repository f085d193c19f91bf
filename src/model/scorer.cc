#include "model/scorer.h"

#include "common/data_paths.h"
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>

#include "model/alerts.h"
#include "model/booster.h"
#include "model/dataset.h"
#include "model/registry.h"
#include "model/trainer.h"
#include "store/predictions.h"
#include "store/schema.h"

namespace vigil::model {
namespace {

constexpr int64_t kChunk = 50'000;

// The anomaly baseline's sample: every window while the baseline spans at most
// kBaselineWindows of them; beyond, runs of kRunWindows consecutive windows starting at
// multiples of the smallest multiple of the window that keeps the sample within that count
// (aligned to absolute time: the same sample in every run). A median and MAD are as good
// on 32 runs of 32 windows spread over the span, and the read follows neither baseline /
// window (86,400 rows per sensor at 1 s windows, for every machine at every run) nor the
// sample's size in pages (a page per window read alone: 1,024 page reads per machine).
constexpr int64_t kBaselineWindows = 1024;
constexpr int64_t kRunWindows = store::kBaselineRunWindows;

struct BaselineSample {
  int64_t every_ms = 0;  // 0: every window
  int64_t run_ms = 0;
};

BaselineSample BaselineSampleOf(const Config& config) {
  const int64_t w = config.processing.window_ms, windows = config.model.anomaly_baseline_ms / w;
  if (windows <= kBaselineWindows) return {};
  const int64_t runs = kBaselineWindows / kRunWindows;
  return {(windows + runs - 1) / runs * w, kRunWindows * w};
}

}  // namespace

Result<ScoreSummary> ScoreNew(const Config& config) {
  const std::vector<std::string> cols = FeatureColumns(config);
  const BaselineSample sample = BaselineSampleOf(config);
  std::vector<std::string> sensor_fields;
  for (const SensorSpec& s : config.sensors) sensor_fields.push_back(s.field);
  Result<std::unique_ptr<store::ScoringDb>> opened =
      store::ScoringDb::Open(data_paths::Database(config.data_dir), cols, sensor_fields);
  if (!opened) return opened.error();
  store::ScoringDb& db = **opened;
  ScoreSummary out;

  std::optional<Booster> booster, rul_booster;
  Result<std::optional<ModelRecord>> current = CurrentModel(db.db());
  if (!current) return current.error();
  // Alerts warn at the threshold vigil train chose for the current model, unless the
  // config sets model.warning_threshold.
  Config alert_config = config;
  if (*current) alert_config.model.warning_threshold = WarningThreshold(config.model, ModelThreshold(**current));
  if (*current) {
    if (ModelColumns(**current) != cols) {
      out.warning = "model " + std::to_string((*current)->id) +
                    " was trained on other features than the configuration's: not scoring (retrain with vigil train)";
    } else {
      Result<Booster> b = Booster::Load((*current)->file);
      if (b) {
        booster.emplace(std::move(*b));
        out.model_id = (*current)->id;
        // Its remaining-useful-life model (model.rul_cap), when it has one: rul_hours beside
        // each probability; without it (or unreadable: said so) rul_hours stays NULL.
        const std::string rul_file = RulModelFile((*current)->file);
        std::error_code ec;
        if (std::filesystem::exists(rul_file, ec)) {
          Result<Booster> rb = Booster::Load(rul_file);
          if (rb) rul_booster.emplace(std::move(*rb));
          else out.warning = "model " + std::to_string(out.model_id) + ": its remaining-useful-life model cannot be loaded (" +
                             rb.error().message() + "): rul_hours stays empty";
        }
      } else {  // a broken file must not stop the anomaly scores and zone alerts
        out.warning = "model " + std::to_string((*current)->id) + " cannot be loaded (" + b.error().message() +
                      "): anomaly scores only; promote another model with vigil models promote ID";
      }
    }
  }

  Result<std::vector<std::string>> machines = db.Machines();
  if (!machines) return machines.error();
  // A machine's predictions, watermark, latest row, alerts and levels commit together, in
  // one transaction with the machines before it until that has held the write lock (which
  // the processor needs) for kHoldMs: a newly promoted model scoring all history commits
  // about every machine, a routine pass over 100 machines with a few new rows each once or
  // twice (a commit per machine was 100 WAL syncs, most of such a pass).
  constexpr auto kHoldMs = std::chrono::milliseconds(100);
  bool in_txn = false;
  std::chrono::steady_clock::time_point txn_start;
  auto commit = [&]() -> Status {
    if (!in_txn) return Status::Ok();
    in_txn = false;
    return db.Commit();
  };
  auto begin = [&]() -> Status {
    if (in_txn && std::chrono::steady_clock::now() - txn_start < kHoldMs) return Status::Ok();
    VIGIL_RETURN_IF_ERROR(commit());
    VIGIL_RETURN_IF_ERROR(db.Begin());
    in_txn = true;
    txn_start = std::chrono::steady_clock::now();
    return Status::Ok();
  };
  auto fail = [&](const Status& s) {
    db.Rollback();
    return s;
  };
  const SensorSpec* vib = config.FindSensor("vibration");
  for (const std::string& m : *machines) {
    VIGIL_RETURN_IF_ERROR(begin());
    int64_t machine_rows = 0;
    if (booster) {
      Result<int64_t> scored_until = db.ScoredUntil(m, out.model_id);
      if (!scored_until) return fail(scored_until.error());
      int64_t wm = *scored_until;
      // Rows the processor rewrote behind the watermark (late data, a new failure's
      // labels, a rebuild) are scored again from the earliest of them.
      Result<std::optional<int64_t>> rescore = db.RescoreFrom(m);
      if (!rescore) return fail(rescore.error());
      if (*rescore) wm = std::min<int64_t>(wm, **rescore - 1);
      for (;;) {
        std::vector<int64_t> t;
        std::vector<float> x;
        if (Status s = db.RowsAfter(m, wm, kChunk, &t, &x); !s.ok()) return fail(s);
        if (t.empty()) break;
        Result<std::vector<float>> p = booster->Predict(x, cols.size());
        if (!p) return fail(p.error());
        Result<std::vector<float>> rul = rul_booster ? rul_booster->Predict(x, cols.size()) : std::vector<float>{};
        if (!rul) return fail(rul.error());
        for (size_t i = 0; i < t.size(); ++i) {
          // A regression may stray below 0 near a failure: no negative hours.
          const std::optional<double> rul_h =
              rul_booster ? std::optional<double>(std::max(0.0, static_cast<double>((*rul)[i]))) : std::nullopt;
          if (Status s = db.PutPrediction(m, t[i], out.model_id, (*p)[i], rul_h); !s.ok()) return fail(s);
        }
        machine_rows += static_cast<int64_t>(t.size());
        wm = t.back();
        if (static_cast<int64_t>(t.size()) < kChunk) break;
      }
      out.rows_scored += machine_rows;
      if (Status s = db.SetScoredUntil(m, out.model_id, std::max(wm, *scored_until)); !s.ok()) return fail(s);
    }

    // The newest window: its probability and its anomaly score.
    Result<std::optional<store::ScoringDb::Newest>> newest = db.NewestWindow(m);
    if (!newest) return fail(newest.error());
    if (!*newest) continue;
    LatestPrediction lp;
    lp.machine_id = m;
    lp.window_start_ms = (*newest)->window_start_ms;
    const std::vector<std::optional<double>>& values = (*newest)->sensor_values;
    for (size_t s = 0; s < config.sensors.size(); ++s) {
      if (vib && config.sensors[s].field == vib->field) lp.vibration = values[s];
    }
    // Nothing new for this machine since the last scoring: its latest prediction stands
    // (published again, retained) and no level can change, so no baseline is read.
    if (machine_rows == 0) {
      Result<std::optional<store::ScoringDb::Stored>> stored = db.StoredLatest(m);
      if (!stored) return fail(stored.error());
      if (*stored && (*stored)->window_start_ms == lp.window_start_ms && (*stored)->model_id == out.model_id) {
        if (out.model_id) {
          lp.model_id = out.model_id;
          lp.probability = (*stored)->probability;
          lp.rul_hours = (*stored)->rul_hours;
        }
        lp.anomaly_score = (*stored)->anomaly_score;
        out.latest.push_back(std::move(lp));
        continue;
      }
    }
    std::vector<std::vector<double>> baselines;
    if (Status st = db.SensorValues(m, lp.window_start_ms - config.model.anomaly_baseline_ms, lp.window_start_ms,
                                    sample.every_ms, sample.run_ms, &baselines);
        !st.ok()) {
      return fail(st);
    }
    for (size_t s = 0; s < config.sensors.size(); ++s) {
      if (values[s]) lp.anomaly_score = std::max(lp.anomaly_score, std::fabs(RobustZ(*values[s], std::move(baselines[s]))));
    }
    if (booster) {
      Result<std::optional<store::ScoringDb::Scored>> p = db.NewestPrediction(m, out.model_id);
      if (!p) return fail(p.error());
      if (*p) {
        lp.probability = (*p)->probability;
        lp.rul_hours = (*p)->rul_hours;
        lp.model_id = out.model_id;
      }
    }
    if (Status s = db.PutLatest(lp); !s.ok()) return fail(s);

    // Alerts: the machine's levels from the last scoring, this step's transitions.
    AlertLevels levels;
    Result<std::vector<std::pair<std::string, int>>> stored_levels = db.AlertLevels(m);
    if (!stored_levels) return fail(stored_levels.error());
    for (const auto& [kind, level] : *stored_levels) (kind == "probability" ? levels.probability : levels.zone) = level;
    for (Alert& a : NextAlerts(lp, alert_config, &levels)) {
      if (Status s = InsertAlert(db.db(), a); !s.ok()) return fail(Status::IoError("alerts: " + s.message()));
      out.alerts.push_back(std::move(a));
    }
    for (auto [kind, level] : {std::pair{"probability", levels.probability}, {"zone", levels.zone}}) {
      if (Status s = db.PutAlertLevel(m, kind, level); !s.ok()) return fail(s);
    }
    out.latest.push_back(std::move(lp));
  }
  VIGIL_RETURN_IF_ERROR(commit());
  return out;
}

}  // namespace vigil::model
