#include "store/predictions.h"

#include <climits>
#include <cmath>
#include <cstring>

namespace vigil::store {

Alert AlertFromRow(const Stmt& st, int first) {
  return {st.Text(first),       st.Int(first + 1),  st.Text(first + 2),      st.Text(first + 3),
          st.Double(first + 4), st.Text(first + 5), st.OptDouble(first + 6)};
}

Status InsertAlert(Db& db, const Alert& a) {
  Result<Stmt> st = db.Prepare(std::string("INSERT INTO alerts(") + kAlertColumns + ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!st) return st.error();
  return st->Bind(1, a.machine_id).Bind(2, a.ts_ms).Bind(3, a.kind).Bind(4, a.level)
      .Bind(5, std::optional<double>(a.value)).Bind(6, a.message).Bind(7, a.rul_hours).Run();
}

Result<std::vector<std::pair<int64_t, Alert>>> ReadUnpublishedAlerts(const std::string& db_path, int limit) {
  std::vector<std::pair<int64_t, Alert>> out;
  Result<ModelDb> db = ModelDb::Open(db_path);
  if (!db) return db.error().code() == StatusCode::kNotFound ? Result<std::vector<std::pair<int64_t, Alert>>>(out)
                                                             : db.error();
  Result<Stmt> st = db->Prepare(std::string("SELECT id, ") + kAlertColumns +
                                " FROM alerts WHERE published = 0 ORDER BY id LIMIT ?1");
  if (!st) return Status::IoError("alerts: " + st.error().message());
  st->Bind(1, static_cast<int64_t>(limit));
  VIGIL_RETURN_IF_ERROR(st->ForEach([&](const Stmt& row) { out.emplace_back(row.Int(0), AlertFromRow(row, 1)); }));
  return out;
}

Status MarkAlertsPublished(const std::string& db_path, int64_t max_id) {
  Result<ModelDb> db = ModelDb::Open(db_path);
  if (!db) return db.error();
  // Ids grow with every insert and the scorer is the only writer, so every unpublished
  // row up to max_id is one this round has just sent.
  return db->Exec("UPDATE alerts SET published = 1 WHERE published = 0 AND id <= " + std::to_string(max_id));
}

Result<std::unique_ptr<ScoringDb>> ScoringDb::Open(const std::string& path, const std::vector<std::string>& columns,
                                                   const std::vector<std::string>& sensor_fields) {
  Result<ModelDb> db = ModelDb::Open(path);
  if (!db) return db.error();
  std::unique_ptr<ScoringDb> s(new ScoringDb(std::move(*db)));
  s->ncols_ = columns.size();
  s->nsensors_ = sensor_fields.size();
  for (const std::string& f : sensor_fields) s->sensors_ += (s->sensors_.empty() ? "" : ",") + f;
  std::string col_list, sensor_list;
  for (const std::string& c : columns) col_list += ", " + c;
  for (const std::string& c : sensor_fields) sensor_list += ", " + c;
  auto prep = [&](const std::string& sql, Stmt** out) -> Status {
    Result<Stmt> st = s->db_.Prepare(sql);
    if (!st) return Status::IoError("preparing the scoring statements: " + st.error().message());
    s->stmts_.push_back(std::make_unique<Stmt>(std::move(*st)));
    *out = s->stmts_.back().get();
    return Status::Ok();
  };
  VIGIL_RETURN_IF_ERROR(prep("SELECT window_start_ms" + col_list + " FROM features WHERE machine_id = ?1 AND window_start_ms > ?2"
                             " ORDER BY window_start_ms LIMIT ?3", &s->rows_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT until_ms FROM scored WHERE machine_id = ?1 AND model_id = ?2", &s->get_wm_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT from_ms FROM rescore_from WHERE machine_id = ?1", &s->get_rescore_));
  VIGIL_RETURN_IF_ERROR(prep("DELETE FROM rescore_from WHERE machine_id = ?1", &s->del_rescore_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT window_start_ms, model_id, failure_probability_7d, anomaly_score, rul_hours"
                             " FROM latest_predictions WHERE machine_id = ?1", &s->stored_latest_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR REPLACE INTO scored(machine_id, model_id, until_ms) VALUES(?1, ?2, ?3)", &s->put_wm_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR REPLACE INTO predictions(machine_id, window_start_ms, model_id, failure_probability_7d,"
                             " rul_hours) VALUES(?1, ?2, ?3, ?4, ?5)", &s->put_pred_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT window_start_ms" + sensor_list + " FROM latest_features WHERE machine_id = ?1", &s->newest_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT failure_probability_7d, rul_hours FROM predictions WHERE machine_id = ?1 AND model_id = ?2"
                             " ORDER BY window_start_ms DESC LIMIT 1", &s->newest_pred_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR REPLACE INTO latest_predictions(machine_id, window_start_ms, model_id,"
                             " failure_probability_7d, anomaly_score, rul_hours) VALUES(?1, ?2, ?3, ?4, ?5, ?6)", &s->put_latest_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT window_start_ms" + sensor_list + " FROM features WHERE machine_id = ?1 AND window_start_ms >= ?2"
                             " AND window_start_ms < ?3", &s->span_values_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT run_ms, end_ms, sensors, data FROM baseline_runs WHERE machine_id = ?1"
                             " AND run_ms >= ?2 AND run_ms < ?3 ORDER BY run_ms", &s->get_runs_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR REPLACE INTO baseline_runs(machine_id, run_ms, end_ms, sensors, data)"
                             " VALUES(?1, ?2, ?3, ?4, ?5)", &s->put_run_));
  VIGIL_RETURN_IF_ERROR(prep("DELETE FROM baseline_runs WHERE machine_id = ?1 AND run_ms < ?2", &s->drop_old_runs_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT kind, level FROM alert_state WHERE machine_id = ?1", &s->get_level_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR REPLACE INTO alert_state(machine_id, kind, level) VALUES(?1, ?2, ?3)", &s->put_level_));
  return s;
}

Result<std::vector<std::string>> ScoringDb::Machines() {
  Result<Stmt> st = db_.Prepare("SELECT machine_id FROM latest_features ORDER BY machine_id");
  if (!st) return Status::IoError("latest_features: " + st.error().message());
  std::vector<std::string> out;
  VIGIL_RETURN_IF_ERROR(st->ForEach([&](const Stmt& row) { out.push_back(row.Text(0)); }));
  return out;
}

Status ScoringDb::Begin() { return db_.Exec("BEGIN IMMEDIATE"); }
Status ScoringDb::Commit() { return db_.Exec("COMMIT"); }
void ScoringDb::Rollback() { (void)db_.Exec("ROLLBACK"); }

// One optional value from a statement that yields at most one row.
template <typename F>
static auto FirstRow(Stmt* st, F read) -> Result<std::optional<decltype(read(*st))>> {
  Result<bool> row = st->Step();
  if (!row) return row.error();
  std::optional<decltype(read(*st))> out;
  if (*row) {
    out = read(*st);
    st->Reset();
  }
  return out;
}

Result<int64_t> ScoringDb::ScoredUntil(const std::string& machine, int64_t model_id) {
  get_wm_->Bind(1, machine).Bind(2, model_id);
  auto v = FirstRow(get_wm_, [](const Stmt& st) { return st.Int(0); });
  if (!v) return v.error();
  return v->value_or(INT64_MIN);
}

Result<std::optional<int64_t>> ScoringDb::RescoreFrom(const std::string& machine) {
  get_rescore_->Bind(1, machine);
  return FirstRow(get_rescore_, [](const Stmt& st) { return st.Int(0); });
}

Status ScoringDb::RowsAfter(const std::string& machine, int64_t after_ms, int64_t limit, std::vector<int64_t>* t,
                            std::vector<float>* x) {
  t->clear();
  x->clear();
  rows_->Bind(1, machine).Bind(2, after_ms).Bind(3, limit);
  return rows_->ForEach([&](const Stmt& st) {
    t->push_back(st.Int(0));
    for (size_t i = 1; i <= ncols_; ++i) x->push_back(st.FloatOrNaN(static_cast<int>(i)));
  });
}

Status ScoringDb::PutPrediction(const std::string& machine, int64_t window_start_ms, int64_t model_id, double p,
                                std::optional<double> rul_hours) {
  Status s = put_pred_->Bind(1, machine).Bind(2, window_start_ms).Bind(3, model_id).Bind(4, std::optional<double>(p))
                 .Bind(5, rul_hours).Run();
  return s.ok() ? s : Status::IoError("predictions: " + s.message());
}

Status ScoringDb::SetScoredUntil(const std::string& machine, int64_t model_id, int64_t until_ms) {
  Status s = put_wm_->Bind(1, machine).Bind(2, model_id).Bind(3, until_ms).Run();
  if (!s.ok()) return Status::IoError("scored: " + s.message());
  s = del_rescore_->Bind(1, machine).Run();
  return s.ok() ? s : Status::IoError("rescore_from: " + s.message());
}

Result<std::optional<ScoringDb::Newest>> ScoringDb::NewestWindow(const std::string& machine) {
  newest_->Bind(1, machine);
  return FirstRow(newest_, [&](const Stmt& st) {
    Newest n;
    n.window_start_ms = st.Int(0);
    for (size_t i = 1; i <= nsensors_; ++i) n.sensor_values.push_back(st.OptDouble(static_cast<int>(i)));
    return n;
  });
}

Result<std::optional<ScoringDb::Stored>> ScoringDb::StoredLatest(const std::string& machine) {
  stored_latest_->Bind(1, machine);
  return FirstRow(stored_latest_, [](const Stmt& st) {
    Stored s;
    s.window_start_ms = st.Int(0);
    s.model_id = st.IsNull(1) ? 0 : st.Int(1);
    s.probability = st.OptDouble(2);
    s.anomaly_score = st.Double(3);
    s.rul_hours = st.OptDouble(4);
    return s;
  });
}

Status ScoringDb::SensorValues(const std::string& machine, int64_t from_ms, int64_t to_ms, int64_t every_ms,
                               int64_t run_ms, std::vector<std::vector<double>>* out) {
  out->assign(nsensors_, {});
  auto take = [&](const Stmt& row) {
    for (size_t s = 0; s < nsensors_; ++s) {
      if (std::optional<double> v = row.OptDouble(static_cast<int>(s) + 1)) (*out)[s].push_back(*v);
    }
  };
  if (every_ms <= 0) return span_values_->Bind(1, machine).Bind(2, from_ms).Bind(3, to_ms).ForEach(take);
  // One short range read per run: the read follows the sample's size, not the span's rows,
  // and a run's windows lie side by side in one or two pages (a point lookup per sampled
  // window read a page each). A complete run is kept in baseline_runs, from which the
  // processor drops the runs at or after the rows it writes, so the next scoring reads the
  // runs it cached in one range read (a seek per run was most of a routine scoring: 3,200
  // for 100 machines).
  const int64_t first = from_ms / every_ms * every_ms + (from_ms % every_ms > 0 ? every_ms : 0);
  std::vector<std::pair<int64_t, std::string>> cached;  // run start, data
  VIGIL_RETURN_IF_ERROR(get_runs_->Bind(1, machine).Bind(2, first).Bind(3, to_ms).ForEach([&](const Stmt& row) {
    // Cached under another run length (processing.window) or sensor list: not this run.
    const std::string_view data = row.Blob(3);
    if (nsensors_ > 0 && row.Int(1) == row.Int(0) + run_ms && row.Text(2) == sensors_ &&
        data.size() % (nsensors_ * sizeof(double)) == 0) {
      cached.emplace_back(row.Int(0), std::string(data));
    }
  }));
  VIGIL_RETURN_IF_ERROR(drop_old_runs_->Bind(1, machine).Bind(2, first).Run());  // out of the span now
  size_t c = 0;
  std::string data;
  for (int64_t t = first; t < to_ms; t += every_ms) {
    while (c < cached.size() && cached[c].first < t) ++c;
    if (c < cached.size() && cached[c].first == t) {
      const std::string& d = cached[c].second;
      for (size_t at = 0; at < d.size(); at += sizeof(double)) {
        double v;
        std::memcpy(&v, d.data() + at, sizeof v);
        if (!std::isnan(v)) (*out)[at / sizeof(double) % nsensors_].push_back(v);
      }
      continue;
    }
    data.clear();
    VIGIL_RETURN_IF_ERROR(span_values_->Bind(1, machine).Bind(2, t).Bind(3, std::min(t + run_ms, to_ms)).ForEach([&](const Stmt& row) {
      take(row);
      for (size_t s = 0; s < nsensors_; ++s) {
        const double v = row.OptDouble(static_cast<int>(s) + 1).value_or(std::nan(""));
        data.append(reinterpret_cast<const char*>(&v), sizeof v);
      }
    }));
    if (t + run_ms <= to_ms) {  // complete: a window still to come in it is a written row, which drops it
      VIGIL_RETURN_IF_ERROR(put_run_->Bind(1, machine).Bind(2, t).Bind(3, t + run_ms).Bind(4, sensors_).BindBlob(5, data).Run());
    }
  }
  return Status::Ok();
}

Result<std::optional<ScoringDb::Scored>> ScoringDb::NewestPrediction(const std::string& machine, int64_t model_id) {
  newest_pred_->Bind(1, machine).Bind(2, model_id);
  return FirstRow(newest_pred_, [](const Stmt& st) { return Scored{st.Double(0), st.OptDouble(1)}; });
}

Status ScoringDb::PutLatest(const LatestPrediction& p) {
  put_latest_->Bind(1, p.machine_id).Bind(2, p.window_start_ms);
  if (p.model_id) put_latest_->Bind(3, *p.model_id);
  else put_latest_->BindNull(3);
  put_latest_->Bind(4, p.probability).Bind(5, std::optional<double>(p.anomaly_score)).Bind(6, p.rul_hours);
  Status s = put_latest_->Run();
  return s.ok() ? s : Status::IoError("latest_predictions: " + s.message());
}

Result<std::vector<std::pair<std::string, int>>> ScoringDb::AlertLevels(const std::string& machine) {
  std::vector<std::pair<std::string, int>> out;
  get_level_->Bind(1, machine);
  VIGIL_RETURN_IF_ERROR(
      get_level_->ForEach([&](const Stmt& st) { out.emplace_back(st.Text(0), static_cast<int>(st.Int(1))); }));
  return out;
}

Status ScoringDb::PutAlertLevel(const std::string& machine, const std::string& kind, int level) {
  Status s = put_level_->Bind(1, machine).Bind(2, kind).Bind(3, static_cast<int64_t>(level)).Run();
  return s.ok() ? s : Status::IoError("alert_state: " + s.message());
}

}  // namespace vigil::store
