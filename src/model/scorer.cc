#include "model/scorer.h"

#include <cmath>
#include <limits>

#include "model/alerts.h"
#include "model/booster.h"
#include "model/dataset.h"
#include "model/registry.h"

namespace vigil::model {
namespace {

constexpr int64_t kChunk = 50'000;

struct Stmt {
  sqlite3_stmt* st = nullptr;
  Stmt(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) st = nullptr;
  }
  ~Stmt() { sqlite3_finalize(st); }
};

}  // namespace

Result<ScoreSummary> ScoreNew(const Config& config) {
  Result<Db> opened = Db::Open(config.data_dir + "/vigil.db");
  if (!opened) return opened.error();
  Db& db = *opened;
  sqlite3* h = db.get();
  ScoreSummary out;
  const std::vector<std::string> cols = FeatureColumns(config);
  std::string col_list;
  for (const std::string& c : cols) col_list += ", " + c;

  std::optional<Booster> booster;
  Result<std::optional<ModelRecord>> current = CurrentModel(db);
  if (!current) return current.error();
  if (*current) {
    if (ModelColumns(**current) != cols) {
      out.warning = "model " + std::to_string((*current)->id) +
                    " was trained on other features than the configuration's: not scoring (retrain with vigil train)";
    } else {
      Result<Booster> b = Booster::Load((*current)->file);
      if (b) {
        booster.emplace(std::move(*b));
        out.model_id = (*current)->id;
      } else {  // a broken file must not stop the anomaly scores and zone alerts
        out.warning = "model " + std::to_string((*current)->id) + " cannot be loaded (" + b.error().message() +
                      "): anomaly scores only; promote another model with vigil models promote ID";
      }
    }
  }

  std::vector<std::string> machines;
  {
    Stmt st(h, "SELECT machine_id FROM latest_features ORDER BY machine_id");
    if (!st.st) return Status::IoError(std::string("latest_features: ") + sqlite3_errmsg(h));
    while (sqlite3_step(st.st) == SQLITE_ROW) machines.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st.st, 0)));
  }
  // One transaction per machine: its predictions, watermark, latest row, alerts and levels
  // commit together, and a newly promoted model scoring all history holds the write lock
  // (which the processor needs) one machine at a time.
  bool in_txn = false;
  auto commit = [&]() -> Status {
    if (!in_txn) return Status::Ok();
    in_txn = false;
    return db.Exec("COMMIT");
  };
  auto fail = [&](const std::string& what) {
    Status s = Status::IoError(what + ": " + sqlite3_errmsg(h));
    (void)db.Exec("ROLLBACK");
    return s;
  };
  Stmt rows(h, "SELECT window_start_ms" + col_list + " FROM features WHERE machine_id = ?1 AND window_start_ms > ?2"
               " ORDER BY window_start_ms LIMIT " + std::to_string(kChunk));
  Stmt get_wm(h, "SELECT until_ms FROM scored WHERE machine_id = ?1 AND model_id = ?2");
  Stmt get_rescore(h, "SELECT from_ms FROM rescore_from WHERE machine_id = ?1");
  Stmt del_rescore(h, "DELETE FROM rescore_from WHERE machine_id = ?1");
  Stmt stored_latest(h, "SELECT window_start_ms, model_id, failure_probability_7d, anomaly_score"
                        " FROM latest_predictions WHERE machine_id = ?1");
  Stmt put_wm(h, "INSERT OR REPLACE INTO scored(machine_id, model_id, until_ms) VALUES(?1, ?2, ?3)");
  Stmt put_pred(h, "INSERT OR REPLACE INTO predictions(machine_id, window_start_ms, model_id, failure_probability_7d)"
                   " VALUES(?1, ?2, ?3, ?4)");
  Stmt newest(h, "SELECT window_start_ms" + col_list + " FROM latest_features WHERE machine_id = ?1");
  Stmt newest_pred(h, "SELECT failure_probability_7d FROM predictions WHERE machine_id = ?1 AND model_id = ?2"
                      " ORDER BY window_start_ms DESC LIMIT 1");
  Stmt put_latest(h, "INSERT OR REPLACE INTO latest_predictions(machine_id, window_start_ms, model_id,"
                     " failure_probability_7d, anomaly_score) VALUES(?1, ?2, ?3, ?4, ?5)");
  Stmt get_level(h, "SELECT kind, level FROM alert_state WHERE machine_id = ?1");
  Stmt put_level(h, "INSERT OR REPLACE INTO alert_state(machine_id, kind, level) VALUES(?1, ?2, ?3)");
  if (!rows.st || !get_wm.st || !get_rescore.st || !del_rescore.st || !stored_latest.st || !put_wm.st ||
      !put_pred.st || !newest.st || !newest_pred.st || !put_latest.st || !get_level.st || !put_level.st) {
    return fail("preparing the scoring statements");
  }
  const int n = static_cast<int>(cols.size());
  const SensorSpec* vib = config.FindSensor("vibration");
  for (const std::string& m : machines) {
    VIGIL_RETURN_IF_ERROR(commit());  // the machine before
    VIGIL_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    in_txn = true;
    int64_t machine_rows = 0;
    if (booster) {
      int64_t wm = INT64_MIN;
      sqlite3_reset(get_wm.st);
      sqlite3_bind_text(get_wm.st, 1, m.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(get_wm.st, 2, out.model_id);
      if (sqlite3_step(get_wm.st) == SQLITE_ROW) wm = sqlite3_column_int64(get_wm.st, 0);
      // Rows the processor rewrote behind the watermark (late data, a new failure's
      // labels, a rebuild) are scored again from the earliest of them.
      sqlite3_reset(get_rescore.st);
      sqlite3_bind_text(get_rescore.st, 1, m.c_str(), -1, SQLITE_TRANSIENT);
      int64_t scored_until = wm;
      if (sqlite3_step(get_rescore.st) == SQLITE_ROW) wm = std::min<int64_t>(wm, sqlite3_column_int64(get_rescore.st, 0) - 1);
      for (;;) {
        std::vector<int64_t> t;
        std::vector<float> x;
        sqlite3_reset(rows.st);
        sqlite3_bind_text(rows.st, 1, m.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(rows.st, 2, wm);
        while (sqlite3_step(rows.st) == SQLITE_ROW) {
          t.push_back(sqlite3_column_int64(rows.st, 0));
          for (int i = 1; i <= n; ++i) {
            x.push_back(sqlite3_column_type(rows.st, i) == SQLITE_NULL ? std::numeric_limits<float>::quiet_NaN()
                                                                       : static_cast<float>(sqlite3_column_double(rows.st, i)));
          }
        }
        if (t.empty()) break;
        Result<std::vector<float>> p = booster->Predict(x, cols.size());
        if (!p) {
          (void)db.Exec("ROLLBACK");
          return p.error();
        }
        for (size_t i = 0; i < t.size(); ++i) {
          sqlite3_reset(put_pred.st);
          sqlite3_bind_text(put_pred.st, 1, m.c_str(), -1, SQLITE_TRANSIENT);
          sqlite3_bind_int64(put_pred.st, 2, t[i]);
          sqlite3_bind_int64(put_pred.st, 3, out.model_id);
          sqlite3_bind_double(put_pred.st, 4, (*p)[i]);
          if (sqlite3_step(put_pred.st) != SQLITE_DONE) return fail("predictions");
        }
        machine_rows += static_cast<int64_t>(t.size());
        wm = t.back();
        if (static_cast<int64_t>(t.size()) < kChunk) break;
      }
      out.rows_scored += machine_rows;
      sqlite3_reset(put_wm.st);
      sqlite3_bind_text(put_wm.st, 1, m.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(put_wm.st, 2, out.model_id);
      sqlite3_bind_int64(put_wm.st, 3, std::max(wm, scored_until));
      if (sqlite3_step(put_wm.st) != SQLITE_DONE) return fail("scored");
      sqlite3_reset(del_rescore.st);
      sqlite3_bind_text(del_rescore.st, 1, m.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(del_rescore.st) != SQLITE_DONE) return fail("rescore_from");
    }

    // The newest window: its probability and its anomaly score.
    LatestPrediction lp;
    lp.machine_id = m;
    std::vector<std::optional<double>> values;
    sqlite3_reset(newest.st);
    sqlite3_bind_text(newest.st, 1, m.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(newest.st) != SQLITE_ROW) continue;
    lp.window_start_ms = sqlite3_column_int64(newest.st, 0);
    for (int i = 1; i <= static_cast<int>(config.sensors.size()); ++i) {
      values.push_back(sqlite3_column_type(newest.st, i) == SQLITE_NULL ? std::nullopt
                                                                         : std::optional(sqlite3_column_double(newest.st, i)));
    }
    for (size_t s = 0; s < config.sensors.size(); ++s) {
      if (vib && config.sensors[s].field == vib->field) lp.vibration = values[s];
    }
    // Nothing new for this machine since the last scoring: its latest prediction stands
    // (published again, retained) and no level can change, so no baseline is read.
    sqlite3_reset(stored_latest.st);
    sqlite3_bind_text(stored_latest.st, 1, m.c_str(), -1, SQLITE_TRANSIENT);
    if (machine_rows == 0 && sqlite3_step(stored_latest.st) == SQLITE_ROW &&
        sqlite3_column_int64(stored_latest.st, 0) == lp.window_start_ms &&
        (sqlite3_column_type(stored_latest.st, 1) == SQLITE_NULL ? 0 : sqlite3_column_int64(stored_latest.st, 1)) ==
            out.model_id) {
      if (out.model_id) {
        lp.model_id = out.model_id;
        if (sqlite3_column_type(stored_latest.st, 2) != SQLITE_NULL) lp.probability = sqlite3_column_double(stored_latest.st, 2);
      }
      lp.anomaly_score = sqlite3_column_double(stored_latest.st, 3);
      out.latest.push_back(std::move(lp));
      continue;
    }
    for (size_t s = 0; s < config.sensors.size(); ++s) {
      if (!values[s]) continue;
      Stmt base(h, "SELECT " + config.sensors[s].field + " FROM features WHERE machine_id = ?1 AND window_start_ms >= ?2"
                   " AND window_start_ms < ?3 AND " + config.sensors[s].field + " IS NOT NULL");
      if (!base.st) return fail("anomaly baseline");
      sqlite3_bind_text(base.st, 1, m.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(base.st, 2, lp.window_start_ms - config.model.anomaly_baseline_ms);
      sqlite3_bind_int64(base.st, 3, lp.window_start_ms);
      std::vector<double> b;
      while (sqlite3_step(base.st) == SQLITE_ROW) b.push_back(sqlite3_column_double(base.st, 0));
      lp.anomaly_score = std::max(lp.anomaly_score, std::fabs(RobustZ(*values[s], std::move(b))));
    }
    if (booster) {
      sqlite3_reset(newest_pred.st);
      sqlite3_bind_text(newest_pred.st, 1, m.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(newest_pred.st, 2, out.model_id);
      if (sqlite3_step(newest_pred.st) == SQLITE_ROW) {
        lp.probability = sqlite3_column_double(newest_pred.st, 0);
        lp.model_id = out.model_id;
      }
    }
    sqlite3_reset(put_latest.st);
    sqlite3_bind_text(put_latest.st, 1, m.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(put_latest.st, 2, lp.window_start_ms);
    lp.model_id ? sqlite3_bind_int64(put_latest.st, 3, *lp.model_id) : sqlite3_bind_null(put_latest.st, 3);
    lp.probability ? sqlite3_bind_double(put_latest.st, 4, *lp.probability) : sqlite3_bind_null(put_latest.st, 4);
    sqlite3_bind_double(put_latest.st, 5, lp.anomaly_score);
    if (sqlite3_step(put_latest.st) != SQLITE_DONE) return fail("latest_predictions");

    // Alerts: the machine's levels from the last scoring, this step's transitions.
    AlertLevels levels;
    sqlite3_reset(get_level.st);
    sqlite3_bind_text(get_level.st, 1, m.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(get_level.st) == SQLITE_ROW) {
      const std::string kind = reinterpret_cast<const char*>(sqlite3_column_text(get_level.st, 0));
      (kind == "probability" ? levels.probability : levels.zone) = sqlite3_column_int(get_level.st, 1);
    }
    for (Alert& a : NextAlerts(lp, config.model, &levels)) {
      if (!InsertAlert(db, a).ok()) return fail("alerts");
      out.alerts.push_back(std::move(a));
    }
    for (auto [kind, level] : {std::pair{"probability", levels.probability}, {"zone", levels.zone}}) {
      sqlite3_reset(put_level.st);
      sqlite3_bind_text(put_level.st, 1, m.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(put_level.st, 2, kind, -1, SQLITE_STATIC);
      sqlite3_bind_int(put_level.st, 3, level);
      if (sqlite3_step(put_level.st) != SQLITE_DONE) return fail("alert_state");
    }
    out.latest.push_back(std::move(lp));
  }
  VIGIL_RETURN_IF_ERROR(commit());
  return out;
}

}  // namespace vigil::model
