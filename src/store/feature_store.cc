#include "store/feature_store.h"

#include <sqlite3.h>

#include <climits>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "common/timestamp.h"

namespace vigil::store {

// A prepared statement, reset after every use.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt& Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); return *this; }
  Stmt& Bind(int i, const std::string& v) { sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); return *this; }
  Stmt& Bind(int i, std::optional<double> v) {
    if (v) sqlite3_bind_double(s_, i, *v);
    else sqlite3_bind_null(s_, i);
    return *this;
  }
  // SQLITE_ROW -> true, SQLITE_DONE -> false (and resets), else error.
  Result<bool> Step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    if (rc == SQLITE_DONE) return false;
    return Status::IoError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  Status Run() {
    Result<bool> r = Step();
    if (!r) return r.error();
    if (*r) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
    return Status::Ok();
  }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  sqlite3_stmt* get() { return s_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_;
};

namespace {

// An SQL string literal (quotes doubled).
std::string Quoted(const std::string& v) {
  char* q = sqlite3_mprintf("%Q", v.c_str());
  std::string out(q);
  sqlite3_free(q);
  return out;
}

// An `alerts` row selected as machine_id, ts_ms, kind, level, value, message.
model::Alert AlertFromRow(sqlite3_stmt* st) {
  auto text = [&](int col) { return std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, col))); };
  return {text(0), sqlite3_column_int64(st, 1), text(2), text(3), sqlite3_column_double(st, 4), text(5)};
}

std::string Columns(const Config& c) {
  std::string cols;
  for (const SensorSpec& s : c.sensors) cols += ", " + s.field;
  for (const FeatureSpec& f : c.features) cols += ", " + f.name;
  return cols + ", label_failure_7d";
}

}  // namespace

std::string Fingerprint(const Config& c) {
  std::string f = "v1 window=" + std::to_string(c.processing.window_ms) +
                  " horizon=" + std::to_string(c.processing.label_horizon_ms);
  for (const SensorSpec& s : c.sensors) f += " sensor=" + s.name + ":" + s.field;
  for (const FeatureSpec& x : c.features) {
    f += " feature=" + x.name + ":" + x.sensor + ":" + std::string(AggregateName(x.aggregate)) + ":" +
         std::to_string(x.duration_ms);
  }
  return f;
}

Status FeatureStore::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::IoError("sqlite: " + m + " in: " + sql.substr(0, 80));
  }
  return Status::Ok();
}

Result<std::unique_ptr<FeatureStore>> FeatureStore::Open(const std::string& path, const Config& config) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::IoError("cannot open " + path + ": " + m);
  }
  sqlite3_busy_timeout(db, 10'000);
  std::unique_ptr<FeatureStore> s(new FeatureStore(db, config));
  std::string cols;
  for (const SensorSpec& x : config.sensors) cols += ", " + x.field + " REAL";
  for (const FeatureSpec& x : config.features) cols += ", " + x.name + " REAL";
  cols += ", label_failure_7d INTEGER";
  VIGIL_RETURN_IF_ERROR(s->Exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
      "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS readings(machine_id TEXT NOT NULL, sensor TEXT NOT NULL, ts_ms INTEGER NOT NULL,"
      " value REAL NOT NULL, rank TEXT NOT NULL, PRIMARY KEY(machine_id, sensor, ts_ms)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS failure_history(machine_id TEXT NOT NULL, timestamp_ms INTEGER NOT NULL,"
      " event_code TEXT NOT NULL, PRIMARY KEY(machine_id, timestamp_ms, event_code)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS watermarks(machine_id TEXT PRIMARY KEY, watermark_ms INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS features(machine_id TEXT NOT NULL, window_start_ms INTEGER NOT NULL" + cols +
      ", PRIMARY KEY(machine_id, window_start_ms)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS latest_features(machine_id TEXT PRIMARY KEY, window_start_ms INTEGER NOT NULL" + cols + ");"
      "CREATE TABLE IF NOT EXISTS batches(id INTEGER PRIMARY KEY, started_ms INTEGER, finished_ms INTEGER,"
      " segments INTEGER, lines INTEGER, readings INTEGER, duplicates INTEGER, failures INTEGER,"
      " bad_lines INTEGER, rows INTEGER, outcome TEXT);"
      "CREATE TABLE IF NOT EXISTS consumed_segments(path TEXT PRIMARY KEY, batch_id INTEGER NOT NULL);"
      // The earliest features row each machine's batches rewrote since the model stage last
      // scored it: late data and new failures change rows behind the scoring watermark.
      "CREATE TABLE IF NOT EXISTS rescore_from(machine_id TEXT PRIMARY KEY, from_ms INTEGER NOT NULL);"));
  // The schema fingerprint: features must never mix two configurations.
  const std::string fp = Fingerprint(config);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'fingerprint'", -1, &q, nullptr);
  std::string stored;
  if (sqlite3_step(q) == SQLITE_ROW) stored = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
  sqlite3_finalize(q);
  if (stored.empty()) {
    VIGIL_RETURN_IF_ERROR(s->Exec("INSERT INTO meta(key, value) VALUES('fingerprint', '" + fp + "')"));
  } else if (stored != fp) {
    return Status::InvalidArgument(
        path + " was built with another window, horizon, sensor or feature configuration:\n  stored:  " +
        stored + "\n  current: " + fp +
        "\nMixing them in one table would be wrong: rebuild it from the lake with `vigil reprocess --all` "
        "(same --config and --data-dir), or restore the previous configuration.");
  }
  VIGIL_RETURN_IF_ERROR(s->Prepare());
  return s;
}

FeatureStore::FeatureStore(sqlite3* db, const Config& config) : db_(db), config_(config) {}

FeatureStore::~FeatureStore() {
  stmts_.clear();
  sqlite3_close(db_);
}

Status FeatureStore::Prepare() {
  auto prep = [&](const std::string& sql, Stmt** out) -> Status {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK) {
      return Status::IoError(std::string("sqlite prepare: ") + sqlite3_errmsg(db_) + " in: " + sql);
    }
    stmts_.push_back(std::make_unique<Stmt>(db_, st));
    *out = stmts_.back().get();
    return Status::Ok();
  };
  const std::string cols = Columns(config_);
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

Status FeatureStore::Begin() { return Exec("BEGIN IMMEDIATE"); }
Status FeatureStore::Commit() { return Exec("COMMIT"); }
void FeatureStore::Rollback() { (void)Exec("ROLLBACK"); }

Status FeatureStore::UpsertReading(const Reading& r, bool* changed, bool* duplicate) {
  const std::string& sensor = config_.sensors[r.sensor].name;
  get_reading_->Bind(1, r.machine_id).Bind(2, sensor).Bind(3, r.ts_ms);
  Result<bool> row = get_reading_->Step();
  if (!row) return row.error();
  *changed = true;
  *duplicate = false;
  if (*row) {
    double old_value = sqlite3_column_double(get_reading_->get(), 0);
    std::string old_rank = reinterpret_cast<const char*>(sqlite3_column_text(get_reading_->get(), 1));
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
  *added = sqlite3_changes(db_) > 0;
  return Status::Ok();
}

Result<int64_t> FeatureStore::Watermark(const std::string& machine_id) {
  get_wm_->Bind(1, machine_id);
  Result<bool> row = get_wm_->Step();
  if (!row) return row.error();
  if (!*row) return INT64_MIN;
  int64_t v = sqlite3_column_int64(get_wm_->get(), 0);
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
  for (;;) {
    Result<bool> row = readings_in_->Step();
    if (!row) return row.error();
    if (!*row) return Status::Ok();
    values->push_back(sqlite3_column_double(readings_in_->get(), 0));
  }
}

Status FeatureStore::Rows(const std::string& machine_id, int64_t from_ms, int64_t to_ms, std::vector<FeatureRow>* out) {
  out->clear();
  rows_->Bind(1, machine_id).Bind(2, from_ms).Bind(3, to_ms);
  const int ns = static_cast<int>(config_.sensors.size()), nf = static_cast<int>(config_.features.size());
  sqlite3_stmt* st = rows_->get();
  auto col = [&](int i) -> std::optional<double> {
    if (sqlite3_column_type(st, i) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_double(st, i);
  };
  for (;;) {
    Result<bool> row = rows_->Step();
    if (!row) return row.error();
    if (!*row) return Status::Ok();
    FeatureRow r;
    r.window_start_ms = sqlite3_column_int64(st, 0);
    for (int i = 0; i < ns; ++i) r.sensor_values.push_back(col(1 + i));
    for (int i = 0; i < nf; ++i) r.features.push_back(col(1 + ns + i));
    if (sqlite3_column_type(st, 1 + ns + nf) != SQLITE_NULL) r.label = sqlite3_column_int(st, 1 + ns + nf);
    out->push_back(std::move(r));
  }
}

Status FeatureStore::UpsertRow(const std::string& machine_id, const FeatureRow& row) {
  put_row_->Bind(1, machine_id).Bind(2, row.window_start_ms);
  int i = 3;
  for (const auto& v : row.sensor_values) put_row_->Bind(i++, v);
  for (const auto& v : row.features) put_row_->Bind(i++, v);
  if (row.label) put_row_->Bind(i, static_cast<int64_t>(*row.label));
  else put_row_->Bind(i, std::optional<double>());
  return put_row_->Run();
}

Status FeatureStore::FailuresOf(const std::string& machine_id, std::vector<int64_t>* ts_ms) {
  ts_ms->clear();
  failures_of_->Bind(1, machine_id);
  for (;;) {
    Result<bool> row = failures_of_->Step();
    if (!row) return row.error();
    if (!*row) return Status::Ok();
    ts_ms->push_back(sqlite3_column_int64(failures_of_->get(), 0));
  }
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
  const int64_t batch = sqlite3_column_int64(is_consumed_->get(), 0);
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
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Status FeatureStore::DumpFeatures(std::vector<std::string>* out) {
  out->clear();
  sqlite3_stmt* st = nullptr;
  std::string sql = "SELECT machine_id, window_start_ms" + Columns(config_) + " FROM features ORDER BY machine_id, window_start_ms";
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return Status::IoError(sqlite3_errmsg(db_));
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::string line;
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      if (i) line += "|";
      switch (sqlite3_column_type(st, i)) {
        case SQLITE_NULL: line += "NULL"; break;
        case SQLITE_FLOAT: {
          char buf[40];
          std::snprintf(buf, sizeof buf, "%.17g", sqlite3_column_double(st, i));
          line += buf;
          break;
        }
        default: line += reinterpret_cast<const char*>(sqlite3_column_text(st, i));
      }
    }
    out->push_back(std::move(line));
  }
  sqlite3_finalize(st);
  return Status::Ok();
}

Status FeatureStore::ReplaceMachines(const std::string& other_path, const std::vector<std::string>& machines) {
  std::string list;
  for (const std::string& m : machines) list += (list.empty() ? "" : ", ") + Quoted(m);
  Status s = Exec("ATTACH DATABASE " + Quoted(other_path) + " AS rebuilt");
  VIGIL_RETURN_IF_ERROR(s);
  std::string sql = "BEGIN IMMEDIATE;";
  for (const char* t : {"features", "latest_features", "failure_history", "readings", "watermarks", "rescore_from"}) {
    sql += std::string("DELETE FROM main.") + t + " WHERE machine_id IN (" + list + ");";
    sql += std::string("INSERT INTO main.") + t + " SELECT * FROM rebuilt." + t + " WHERE machine_id IN (" + list + ");";
  }
  sql += "INSERT OR IGNORE INTO main.consumed_segments SELECT * FROM rebuilt.consumed_segments; COMMIT;";
  s = Exec(sql);
  if (!s.ok()) (void)Exec("ROLLBACK");
  (void)Exec("DETACH DATABASE rebuilt");
  return s;
}

Status CarryOverTables(const std::string& from_path, const std::string& to_path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(to_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return Status::IoError("cannot open " + to_path);
  }
  sqlite3_busy_timeout(db, 10'000);
  auto exec = [&](const std::string& sql) -> Status {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) == SQLITE_OK) return Status::Ok();
    Status s = Status::IoError("carrying tables over from " + from_path + ": " + (err ? err : "?"));
    sqlite3_free(err);
    return s;
  };
  // Tables and indexes of the old database that the new one lacks, with their rows.
  std::vector<std::pair<std::string, std::string>> missing;  // name, CREATE statement
  Status s = exec("ATTACH DATABASE " + Quoted(from_path) + " AS old");
  if (s.ok()) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db,
                       "SELECT name, sql FROM old.sqlite_master WHERE type = 'table' AND sql IS NOT NULL"
                       " AND name NOT LIKE 'sqlite_%' AND name NOT IN (SELECT name FROM main.sqlite_master)"
                       " UNION ALL SELECT '', sql FROM old.sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                       " AND tbl_name NOT IN (SELECT name FROM main.sqlite_master)"
                       " ORDER BY 1 DESC",  // tables before their indexes (named '')
                       -1, &st, nullptr);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
      missing.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                           reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
    }
    sqlite3_finalize(st);
    std::string sql = "BEGIN IMMEDIATE;";
    for (const auto& [name, create] : missing) {
      sql += create + ";";
      if (!name.empty()) sql += "INSERT INTO main.\"" + name + "\" SELECT * FROM old.\"" + name + "\";";
    }
    s = exec(sql + "COMMIT;");
    if (!s.ok()) (void)exec("ROLLBACK");
    (void)exec("DETACH DATABASE old");
  }
  sqlite3_close(db);
  return s;
}

Status ReplaceDatabase(const std::string& from_path, const std::string& to_path) {
  for (const std::string& p : {from_path, to_path}) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(p.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      sqlite3_close(db);
      if (p == to_path) continue;  // no current database: nothing to switch
      return Status::IoError("cannot open " + p);
    }
    sqlite3_busy_timeout(db, 10'000);
    char* err = nullptr;
    int rc = sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;", nullptr, nullptr, &err);
    std::string m = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    if (rc != SQLITE_OK) return Status::IoError("switching " + p + " out of WAL mode: " + m);
  }
  if (std::rename(from_path.c_str(), to_path.c_str()) != 0) {
    return Status::IoError("rename " + from_path + " -> " + to_path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Result<StoreStatus> ReadStatus(const std::string& db_path, const Config& config, bool label_counts) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return Status::NotFound("no feature store at " + db_path);
  }
  sqlite3_busy_timeout(db, 10'000);
  StoreStatus out;
  auto query = [&](const std::string& sql, const std::function<void(sqlite3_stmt*)>& row) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return false;
    while (sqlite3_step(st) == SQLITE_ROW) row(st);
    sqlite3_finalize(st);
    return true;
  };
  bool ok = query("SELECT machine_id, window_start_ms" + Columns(config) + " FROM latest_features ORDER BY machine_id", [&](sqlite3_stmt* st) {
    MachineStatus m;
    m.machine_id = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    m.window_start_ms = sqlite3_column_int64(st, 1);
    for (int i = 2; i < sqlite3_column_count(st); ++i) {
      std::optional<double> v;
      if (sqlite3_column_type(st, i) != SQLITE_NULL) v = sqlite3_column_double(st, i);
      m.values.emplace_back(sqlite3_column_name(st, i), v);
    }
    out.machines.push_back(std::move(m));
  });
  if (!ok) {
    sqlite3_close(db);
    return Status::InvalidArgument("the feature store's columns do not match the configuration");
  }
  for (MachineStatus& m : out.machines) {
    query("SELECT max(timestamp_ms) FROM failure_history WHERE machine_id = " + Quoted(m.machine_id), [&](sqlite3_stmt* st) {
      if (sqlite3_column_type(st, 0) != SQLITE_NULL) m.last_failure_ms = sqlite3_column_int64(st, 0);
    });
  }
  for (MachineStatus& m : out.machines) m.labels_counted = label_counts;
  // The model stage's table, when it exists (a failed prepare just means not yet).
  query("SELECT machine_id, failure_probability_7d, anomaly_score, model_id FROM latest_predictions", [&](sqlite3_stmt* st) {
    const std::string id = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    for (MachineStatus& m : out.machines) {
      if (m.machine_id != id) continue;
      if (sqlite3_column_type(st, 1) != SQLITE_NULL) m.failure_probability = sqlite3_column_double(st, 1);
      if (sqlite3_column_type(st, 2) != SQLITE_NULL) m.anomaly_score = sqlite3_column_double(st, 2);
      if (sqlite3_column_type(st, 3) != SQLITE_NULL) m.model_id = sqlite3_column_int64(st, 3);
    }
  });
  if (label_counts) query("SELECT machine_id, label_failure_7d, count(*) FROM features GROUP BY 1, 2", [&](sqlite3_stmt* st) {
    std::string id = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    for (MachineStatus& m : out.machines) {
      if (m.machine_id != id) continue;
      int64_t n = sqlite3_column_int64(st, 2);
      if (sqlite3_column_type(st, 1) == SQLITE_NULL) m.label_null += n;
      else if (sqlite3_column_int(st, 1) == 1) m.label1 += n;
      else m.label0 += n;
    }
  });
  query("SELECT count(*) FROM batches", [&](sqlite3_stmt* st) { out.batches = sqlite3_column_int64(st, 0); });
  query("SELECT started_ms, finished_ms, segments, lines, readings, duplicates, failures, bad_lines, rows, outcome FROM batches ORDER BY id DESC LIMIT 1",
        [&](sqlite3_stmt* st) {
          BatchRecord b;
          b.started_ms = sqlite3_column_int64(st, 0), b.finished_ms = sqlite3_column_int64(st, 1);
          b.segments = sqlite3_column_int64(st, 2), b.lines = sqlite3_column_int64(st, 3);
          b.readings = sqlite3_column_int64(st, 4), b.duplicates = sqlite3_column_int64(st, 5);
          b.failures = sqlite3_column_int64(st, 6), b.bad_lines = sqlite3_column_int64(st, 7);
          b.rows = sqlite3_column_int64(st, 8);
          b.outcome = reinterpret_cast<const char*>(sqlite3_column_text(st, 9));
          out.last_batch = b;
        });
  sqlite3_close(db);
  return out;
}

Result<Series> ReadSeries(const std::string& db_path, const Config& config, const SeriesQuery& q) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return Status::NotFound("no feature store at " + db_path);
  }
  sqlite3_busy_timeout(db, 10'000);
  Series out;
  for (const SensorSpec& sp : config.sensors) out.columns.push_back(sp.field);
  for (const FeatureSpec& f : config.features) out.columns.push_back(f.name);
  out.values.resize(out.columns.size());
  const std::string range = " WHERE machine_id = " + Quoted(q.machine_id) + " AND window_start_ms >= " +
                            std::to_string(q.from_ms) + " AND window_start_ms < " + std::to_string(q.to_ms);
  const std::string bucket = "(window_start_ms - " + std::to_string(q.from_ms) + ") / " + std::to_string(q.step_ms);
  std::string sql = "SELECT " + bucket + " AS b";
  for (const std::string& c : out.columns) sql += ", avg(" + c + ")";
  sql += " FROM features" + range + " GROUP BY b ORDER BY b";
  auto run = [&](const std::string& text, const std::function<void(sqlite3_stmt*)>& row) -> bool {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, text.c_str(), -1, &st, nullptr) != SQLITE_OK) return false;
    while (sqlite3_step(st) == SQLITE_ROW) row(st);
    sqlite3_finalize(st);
    return true;
  };
  // The same machines as /api/machines lists: an unknown one is NotFound, not an empty chart.
  bool known = false;
  run("SELECT 1 FROM latest_features WHERE machine_id = " + Quoted(q.machine_id), [&](sqlite3_stmt*) { known = true; });
  if (!known) {
    sqlite3_close(db);
    return Status::NotFound("no machine '" + q.machine_id + "' in the feature store");
  }
  // Every bucket, empty ones as nulls: GROUP BY returns only the filled ones, and a chart
  // must show a gap rather than a line across it. The caller bounds the count.
  const int64_t span = q.to_ms - q.from_ms;
  const int64_t buckets = span / q.step_ms + (span % q.step_ms != 0);
  for (int64_t b = 0; b < buckets; ++b) out.t.push_back(q.from_ms + b * q.step_ms);
  for (auto& v : out.values) v.assign(out.t.size(), std::nullopt);
  const bool ok = run(sql, [&](sqlite3_stmt* st) {
    const int64_t b = sqlite3_column_int64(st, 0);
    for (size_t i = 0; i < out.columns.size(); ++i) {
      const int col = static_cast<int>(i) + 1;
      if (sqlite3_column_type(st, col) != SQLITE_NULL) out.values[i][b] = sqlite3_column_double(st, col);
    }
  });
  if (!ok) {
    std::string err = sqlite3_errmsg(db);
    sqlite3_close(db);
    return Status::InvalidArgument("the feature store's columns do not match the configuration: " + err);
  }
  run("SELECT timestamp_ms, event_code FROM failure_history WHERE machine_id = " + Quoted(q.machine_id) +
          " AND timestamp_ms >= " + std::to_string(q.from_ms) + " AND timestamp_ms < " + std::to_string(q.to_ms) +
          " ORDER BY timestamp_ms",
      [&](sqlite3_stmt* st) {
        const unsigned char* code = sqlite3_column_text(st, 1);
        out.failures.emplace_back(sqlite3_column_int64(st, 0), code ? reinterpret_cast<const char*>(code) : "");
      });
  // Tables of the model stage, when present (absent tables just fail to prepare).
  // The current model's (it scores the whole history once promoted); others are kept for audits.
  run("SELECT " + bucket + " AS b, avg(failure_probability_7d) FROM predictions" + range +
          " AND model_id = (SELECT model_id FROM model_promotions WHERE rolled_back = 0 ORDER BY id DESC LIMIT 1)"
          " GROUP BY b ORDER BY b",
      [&](sqlite3_stmt* st) {
        // Over the same buckets as the values (gaps as nulls), once there is any prediction.
        if (out.predictions.empty()) out.predictions.resize(out.t.size());
        out.predictions[sqlite3_column_int64(st, 0)] = sqlite3_column_double(st, 1);
      });
  run("SELECT machine_id, ts_ms, kind, level, value, message FROM alerts"
      " WHERE machine_id = " + Quoted(q.machine_id) + " AND ts_ms >= " + std::to_string(q.from_ms) +
          " AND ts_ms < " + std::to_string(q.to_ms) + " ORDER BY ts_ms",
      [&](sqlite3_stmt* st) { out.alerts.push_back(AlertFromRow(st)); });
  sqlite3_close(db);
  return out;
}

std::vector<model::Alert> ReadAlerts(const std::string& db_path, const std::string& machine_id, int64_t limit) {
  std::vector<model::Alert> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* st = nullptr;
    // The table belongs to the model stage; until it exists there are no alerts.
    if (sqlite3_prepare_v2(db,
                           "SELECT machine_id, ts_ms, kind, level, value, message FROM alerts"
                           " WHERE ?1 = '' OR machine_id = ?1 ORDER BY ts_ms DESC LIMIT ?2",
                           -1, &st, nullptr) == SQLITE_OK) {
      sqlite3_bind_text(st, 1, machine_id.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st, 2, limit);
      while (sqlite3_step(st) == SQLITE_ROW) out.push_back(AlertFromRow(st));
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

Result<int64_t> ExportCsv(const std::string& db_path, const Config& config, const ExportQuery& q,
                          std::FILE* out) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return Status::IoError("cannot open " + db_path + " (run `vigil process` first?)");
  }
  sqlite3_busy_timeout(db, 10'000);
  const bool events = q.table == "failure_history";
  const std::string time_col = events ? "timestamp_ms" : "window_start_ms";
  std::string sql = events ? "SELECT machine_id, timestamp_ms, event_code FROM failure_history"
                           : "SELECT machine_id, window_start_ms" + Columns(config) + " FROM " + q.table;
  sql += " WHERE " + time_col + " >= ?1 AND " + time_col + " < ?2";
  if (q.labelled_only && !events) sql += " AND label_failure_7d IS NOT NULL";
  if (!q.machines.empty()) {
    sql += " AND machine_id IN (";
    for (size_t i = 0; i < q.machines.size(); ++i) sql += (i ? ", ?" : "?") + std::to_string(i + 3);
    sql += ")";
  }
  sql += " ORDER BY machine_id, " + time_col;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    Status s = Status::IoError(std::string("sqlite: ") + sqlite3_errmsg(db) + " (does the configuration match the database?)");
    sqlite3_close(db);
    return s;
  }
  sqlite3_bind_int64(st, 1, q.from_ms);
  sqlite3_bind_int64(st, 2, q.until_ms);
  for (size_t i = 0; i < q.machines.size(); ++i) {
    sqlite3_bind_text(st, static_cast<int>(i + 3), q.machines[i].c_str(), -1, SQLITE_TRANSIENT);
  }
  const int ncol = sqlite3_column_count(st);
  // Header: the time column becomes an ISO-8601 column named without "_ms".
  std::fprintf(out, "machine_id,%s", events ? "timestamp_utc" : "window_start");
  for (int i = 2; i < ncol; ++i) std::fprintf(out, ",%s", sqlite3_column_name(st, i));
  std::fputc('\n', out);
  int64_t rows = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::fprintf(out, "%s,%s", reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                 FormatTimestampMs(sqlite3_column_int64(st, 1)).c_str());
    for (int i = 2; i < ncol; ++i) {
      switch (sqlite3_column_type(st, i)) {
        case SQLITE_NULL: std::fputc(',', out); break;
        case SQLITE_INTEGER: std::fprintf(out, ",%lld", static_cast<long long>(sqlite3_column_int64(st, i))); break;
        case SQLITE_FLOAT: {
          // The shortest of %.15g / %.17g that reads back as the same double.
          double d = sqlite3_column_double(st, i);
          char buf[40];
          std::snprintf(buf, sizeof buf, "%.15g", d);
          if (std::strtod(buf, nullptr) != d) std::snprintf(buf, sizeof buf, "%.17g", d);
          std::fprintf(out, ",%s", buf);
          break;
        }
        default: std::fprintf(out, ",%s", reinterpret_cast<const char*>(sqlite3_column_text(st, i)));
      }
    }
    std::fputc('\n', out);
    ++rows;
  }
  Status s = rc == SQLITE_DONE ? Status::Ok() : Status::IoError(std::string("sqlite: ") + sqlite3_errmsg(db));
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (std::ferror(out)) return Status::IoError("write error");
  if (!s.ok()) return s;
  return rows;
}

}  // namespace vigil::store
