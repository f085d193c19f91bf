#include "store/feature_store.h"

#include <climits>
#include <cstdio>

#include "store/schema.h"

namespace vigil::store {

Result<std::unique_ptr<FeatureStore>> FeatureStore::Open(const std::string& path, const Config& config) {
  Result<Db> db = Db::Open(path, OpenMode::kProcessor);
  if (!db) return db.error().code() == StatusCode::kNotFound ? Status::IoError(db.error().message()) : db.error();
  VIGIL_RETURN_IF_ERROR(CreateProcessorTables(*db, config, path));
  std::unique_ptr<FeatureStore> s(new FeatureStore(std::move(*db), config));
  VIGIL_RETURN_IF_ERROR(s->Prepare());
  return s;
}

FeatureStore::~FeatureStore() { stmts_.clear(); }  // statements before the connection

Status FeatureStore::Prepare() {
  auto prep = [&](const std::string& sql, Stmt** out) -> Status {
    Result<Stmt> st = db_.Prepare(sql, /*persistent=*/true);
    if (!st) return st.error();
    stmts_.push_back(std::make_unique<Stmt>(std::move(*st)));
    *out = stmts_.back().get();
    return Status::Ok();
  };
  const std::string cols = FeatureColumnList(config_);
  std::string marks;
  for (size_t i = 0; i < config_.sensors.size() + config_.features.size() + 1; ++i) marks += ", ?";
  VIGIL_RETURN_IF_ERROR(prep("SELECT value, rank FROM readings WHERE machine_id = ? AND sensor = ? AND ts_ms = ?", &get_reading_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR REPLACE INTO readings(machine_id, sensor, ts_ms, value, rank) VALUES(?, ?, ?, ?, ?)", &put_reading_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR IGNORE INTO failure_history(machine_id, timestamp_ms, event_code) VALUES(?, ?, ?)", &put_failure_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT watermark_ms FROM watermarks WHERE machine_id = ?", &get_wm_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR REPLACE INTO watermarks(machine_id, watermark_ms) VALUES(?, ?)", &put_wm_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT value FROM readings WHERE machine_id = ? AND sensor = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms", &readings_in_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT window_start_ms" + cols + " FROM features WHERE machine_id = ? AND window_start_ms >= ? AND window_start_ms < ? ORDER BY window_start_ms", &rows_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR REPLACE INTO features(machine_id, window_start_ms" + cols + ") VALUES(?, ?" + marks + ")", &put_row_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT timestamp_ms FROM failure_history WHERE machine_id = ? ORDER BY timestamp_ms", &failures_of_));
  VIGIL_RETURN_IF_ERROR(prep("DELETE FROM latest_features WHERE machine_id = ?", &latest_del_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT INTO rescore_from(machine_id, from_ms) VALUES(?, ?) ON CONFLICT(machine_id)"
                             " DO UPDATE SET from_ms = min(from_ms, excluded.from_ms)", &rescore_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT INTO latest_features SELECT * FROM features WHERE machine_id = ? ORDER BY window_start_ms DESC LIMIT 1", &latest_put_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT batch_id FROM consumed_segments WHERE path = ?", &is_consumed_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR IGNORE INTO consumed_segments(path, batch_id) VALUES(?, ?)", &consume_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT INTO batches(started_ms, finished_ms, segments, lines, readings, duplicates, failures, bad_lines, rows, outcome) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &put_batch_));
  return Status::Ok();
}

Status FeatureStore::Begin() { return db_.Exec("BEGIN IMMEDIATE"); }
Status FeatureStore::Commit() { return db_.Exec("COMMIT"); }
void FeatureStore::Rollback() { (void)db_.Exec("ROLLBACK"); }

Status FeatureStore::UpsertReading(const Reading& r, bool* changed, bool* duplicate) {
  const std::string& sensor = config_.sensors[r.sensor].name;
  get_reading_->Bind(1, r.machine_id).Bind(2, sensor).Bind(3, r.ts_ms);
  Result<bool> row = get_reading_->Step();
  if (!row) return row.error();
  *changed = true;
  *duplicate = false;
  if (*row) {
    double old_value = get_reading_->Double(0);
    std::string old_rank = get_reading_->Text(1);
    get_reading_->Reset();
    *duplicate = true;
    if (old_rank <= r.rank) {  // first received wins
      *changed = false;
      return Status::Ok();
    }
    *changed = old_value != r.value;
  }
  return put_reading_->Bind(1, r.machine_id).Bind(2, sensor).Bind(3, r.ts_ms).Bind(4, std::optional<double>(r.value)).Bind(5, r.rank).Run();
}

Status FeatureStore::InsertFailure(const std::string& machine_id, int64_t ts_ms, const std::string& code, bool* added) {
  VIGIL_RETURN_IF_ERROR(put_failure_->Bind(1, machine_id).Bind(2, ts_ms).Bind(3, code).Run());
  *added = db_.Changes() > 0;
  return Status::Ok();
}

Result<int64_t> FeatureStore::Watermark(const std::string& machine_id) {
  get_wm_->Bind(1, machine_id);
  Result<bool> row = get_wm_->Step();
  if (!row) return row.error();
  if (!*row) return INT64_MIN;
  int64_t v = get_wm_->Int(0);
  get_wm_->Reset();
  return v;
}

Status FeatureStore::SetWatermark(const std::string& machine_id, int64_t wm_ms) {
  return put_wm_->Bind(1, machine_id).Bind(2, wm_ms).Run();
}

Status FeatureStore::ReadingsIn(const std::string& machine_id, int sensor, int64_t from_ms, int64_t to_ms,
                                std::vector<double>* values) {
  values->clear();
  readings_in_->Bind(1, machine_id).Bind(2, config_.sensors[sensor].name).Bind(3, from_ms).Bind(4, to_ms);
  return readings_in_->ForEach([&](const Stmt& st) { values->push_back(st.Double(0)); });
}

Status FeatureStore::Rows(const std::string& machine_id, int64_t from_ms, int64_t to_ms, std::vector<FeatureRow>* out) {
  out->clear();
  rows_->Bind(1, machine_id).Bind(2, from_ms).Bind(3, to_ms);
  const int ns = static_cast<int>(config_.sensors.size()), nf = static_cast<int>(config_.features.size());
  return rows_->ForEach([&](const Stmt& st) {
    FeatureRow r;
    r.window_start_ms = st.Int(0);
    for (int i = 0; i < ns; ++i) r.sensor_values.push_back(st.OptDouble(1 + i));
    for (int i = 0; i < nf; ++i) r.features.push_back(st.OptDouble(1 + ns + i));
    if (!st.IsNull(1 + ns + nf)) r.label = static_cast<int>(st.Int(1 + ns + nf));
    out->push_back(std::move(r));
  });
}

Status FeatureStore::UpsertRow(const std::string& machine_id, const FeatureRow& row) {
  put_row_->Bind(1, machine_id).Bind(2, row.window_start_ms);
  int i = 3;
  for (const auto& v : row.sensor_values) put_row_->Bind(i++, v);
  for (const auto& v : row.features) put_row_->Bind(i++, v);
  if (row.label) put_row_->Bind(i, static_cast<int64_t>(*row.label));
  else put_row_->BindNull(i);
  return put_row_->Run();
}

Status FeatureStore::FailuresOf(const std::string& machine_id, std::vector<int64_t>* ts_ms) {
  ts_ms->clear();
  failures_of_->Bind(1, machine_id);
  return failures_of_->ForEach([&](const Stmt& st) { ts_ms->push_back(st.Int(0)); });
}

Status FeatureStore::RefreshLatest(const std::string& machine_id) {
  VIGIL_RETURN_IF_ERROR(latest_del_->Bind(1, machine_id).Run());
  return latest_put_->Bind(1, machine_id).Run();
}

Status FeatureStore::MarkRescore(const std::string& machine_id, int64_t from_ms) {
  return rescore_->Bind(1, machine_id).Bind(2, from_ms).Run();
}

Result<int64_t> FeatureStore::ConsumedBy(const std::string& segment) {
  is_consumed_->Bind(1, segment);
  Result<bool> row = is_consumed_->Step();
  if (!row) return row.error();
  if (!*row) return int64_t{0};
  const int64_t batch = is_consumed_->Int(0);
  is_consumed_->Reset();
  return batch;
}

Status FeatureStore::MarkConsumed(const std::string& segment, int64_t batch_id) {
  return consume_->Bind(1, segment).Bind(2, batch_id).Run();
}

Result<int64_t> FeatureStore::RecordBatch(const BatchRecord& b) {
  VIGIL_RETURN_IF_ERROR(put_batch_->Bind(1, b.started_ms).Bind(2, b.finished_ms).Bind(3, b.segments).Bind(4, b.lines)
                            .Bind(5, b.readings).Bind(6, b.duplicates).Bind(7, b.failures).Bind(8, b.bad_lines)
                            .Bind(9, b.rows).Bind(10, b.outcome).Run());
  return db_.LastInsertId();
}

Status FeatureStore::DumpFeatures(std::vector<std::string>* out) {
  out->clear();
  Result<Stmt> st = db_.Prepare("SELECT machine_id, window_start_ms" + FeatureColumnList(config_) +
                                " FROM features ORDER BY machine_id, window_start_ms");
  if (!st) return st.error();
  return st->ForEach([&](const Stmt& row) {
    std::string line;
    for (int i = 0; i < row.Columns(); ++i) {
      if (i) line += "|";
      switch (row.TypeOf(i)) {
        case Stmt::Type::kNull: line += "NULL"; break;
        case Stmt::Type::kFloat: {
          char buf[40];
          std::snprintf(buf, sizeof buf, "%.17g", row.Double(i));
          line += buf;
          break;
        }
        default: line += row.Text(i);
      }
    }
    out->push_back(std::move(line));
  });
}

}  // namespace vigil::store
