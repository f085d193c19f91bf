#include "model/registry.h"

#include <simdjson.h>

namespace vigil::model {
namespace {

Status SqlError(sqlite3* db, const std::string& what) { return Status::IoError(what + ": " + sqlite3_errmsg(db)); }

ModelRecord FromRow(sqlite3_stmt* st) {
  auto text = [&](int i) {
    const unsigned char* t = sqlite3_column_text(st, i);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  };
  ModelRecord m;
  m.id = sqlite3_column_int64(st, 0);
  m.created_ms = sqlite3_column_int64(st, 1);
  m.data_from_ms = sqlite3_column_int64(st, 2);
  m.data_to_ms = sqlite3_column_int64(st, 3);
  m.split_ms = sqlite3_column_int64(st, 4);
  m.train_rows = sqlite3_column_int64(st, 5);
  m.test_rows = sqlite3_column_int64(st, 6);
  m.train_positives = sqlite3_column_int64(st, 7);
  m.test_positives = sqlite3_column_int64(st, 8);
  m.params_json = text(9);
  m.metrics_json = text(10);
  m.file = text(11);
  m.status = text(12);
  return m;
}

constexpr const char* kColumns =
    "id, created_ms, data_from_ms, data_to_ms, split_ms, train_rows, test_rows, train_positives, test_positives,"
    " params, metrics, file, status";

}  // namespace

Result<Db> Db::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(raw);
    return Status::NotFound("no feature store at " + path + " (run vigil process first)");
  }
  Db db(raw);
  sqlite3_busy_timeout(raw, 30'000);
  VIGIL_RETURN_IF_ERROR(db.Exec(
      "PRAGMA journal_mode=WAL;"
      "CREATE TABLE IF NOT EXISTS models(id INTEGER PRIMARY KEY, created_ms INTEGER NOT NULL, data_from_ms INTEGER,"
      " data_to_ms INTEGER, split_ms INTEGER, train_rows INTEGER, test_rows INTEGER, train_positives INTEGER,"
      " test_positives INTEGER, params TEXT, metrics TEXT, file TEXT, status TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS model_promotions(id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL,"
      " promoted_ms INTEGER NOT NULL, rolled_back INTEGER NOT NULL DEFAULT 0);"
      "CREATE TABLE IF NOT EXISTS predictions(machine_id TEXT NOT NULL, window_start_ms INTEGER NOT NULL,"
      " model_id INTEGER NOT NULL, failure_probability_7d REAL NOT NULL,"
      " PRIMARY KEY(machine_id, window_start_ms, model_id)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS latest_predictions(machine_id TEXT PRIMARY KEY, window_start_ms INTEGER NOT NULL,"
      " model_id INTEGER, failure_probability_7d REAL, anomaly_score REAL);"
      "CREATE TABLE IF NOT EXISTS scored(machine_id TEXT NOT NULL, model_id INTEGER NOT NULL, until_ms INTEGER NOT NULL,"
      " PRIMARY KEY(machine_id, model_id)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS alerts(id INTEGER PRIMARY KEY, machine_id TEXT NOT NULL, ts_ms INTEGER NOT NULL,"
      " kind TEXT NOT NULL, level TEXT NOT NULL, value REAL, message TEXT NOT NULL,"
      " published INTEGER NOT NULL DEFAULT 0);"  // 1 once the broker acknowledged it (model/outbox.h)
      "CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts(ts_ms);"
      "CREATE TABLE IF NOT EXISTS alert_state(machine_id TEXT NOT NULL, kind TEXT NOT NULL, level INTEGER NOT NULL,"
      " PRIMARY KEY(machine_id, kind)) WITHOUT ROWID;"));
  return db;
}

Db::~Db() {
  if (db_) sqlite3_close(db_);
}

Status Db::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string e = err ? err : "?";
    sqlite3_free(err);
    return Status::IoError("vigil.db: " + e);
  }
  return Status::Ok();
}

Result<int64_t> InsertModel(Db& db, const ModelRecord& m) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db.get(),
                         "INSERT INTO models(created_ms, data_from_ms, data_to_ms, split_ms, train_rows, test_rows,"
                         " train_positives, test_positives, params, metrics, file, status)"
                         " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
                         -1, &st, nullptr) != SQLITE_OK) {
    return SqlError(db.get(), "models");
  }
  const int64_t ints[] = {m.created_ms, m.data_from_ms, m.data_to_ms, m.split_ms,
                          m.train_rows, m.test_rows,    m.train_positives, m.test_positives};
  for (int i = 0; i < 8; ++i) sqlite3_bind_int64(st, i + 1, ints[i]);
  sqlite3_bind_text(st, 9, m.params_json.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 10, m.metrics_json.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 11, m.file.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 12, m.status.c_str(), -1, SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return SqlError(db.get(), "insert into models");
  return sqlite3_last_insert_rowid(db.get());
}

Status InsertAlert(Db& db, const Alert& a) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db.get(),
                         "INSERT INTO alerts(machine_id, ts_ms, kind, level, value, message) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                         -1, &st, nullptr) != SQLITE_OK) {
    return SqlError(db.get(), "alerts");
  }
  sqlite3_bind_text(st, 1, a.machine_id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, a.ts_ms);
  sqlite3_bind_text(st, 3, a.kind.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, a.level.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(st, 5, a.value);
  sqlite3_bind_text(st, 6, a.message.c_str(), -1, SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? Status::Ok() : SqlError(db.get(), "insert into alerts");
}

std::vector<std::string> ModelColumns(const ModelRecord& m) {
  std::vector<std::string> out;
  simdjson::dom::parser parser;
  simdjson::dom::array cols;
  if (parser.parse(m.params_json)["columns"].get(cols)) return out;
  for (simdjson::dom::element c : cols) {
    std::string_view name;
    if (!c.get(name)) out.emplace_back(name);
  }
  return out;
}

Status UpdateModel(Db& db, const ModelRecord& m) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db.get(), "UPDATE models SET metrics = ?1, file = ?2, status = ?3 WHERE id = ?4", -1, &st,
                         nullptr) != SQLITE_OK) {
    return SqlError(db.get(), "models");
  }
  sqlite3_bind_text(st, 1, m.metrics_json.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, m.file.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, m.status.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 4, m.id);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? Status::Ok() : SqlError(db.get(), "update models");
}

Result<std::vector<ModelRecord>> ListModels(Db& db) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db.get(), (std::string("SELECT ") + kColumns + " FROM models ORDER BY id").c_str(), -1, &st,
                         nullptr) != SQLITE_OK) {
    return SqlError(db.get(), "models");
  }
  std::vector<ModelRecord> out;
  while (sqlite3_step(st) == SQLITE_ROW) out.push_back(FromRow(st));
  sqlite3_finalize(st);
  return out;
}

Result<std::optional<ModelRecord>> CurrentModel(Db& db) {
  sqlite3_stmt* st = nullptr;
  const std::string sql = std::string("SELECT ") + kColumns +
                          " FROM models WHERE id = (SELECT model_id FROM model_promotions WHERE rolled_back = 0"
                          " ORDER BY id DESC LIMIT 1)";
  if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return SqlError(db.get(), "models");
  std::optional<ModelRecord> out;
  if (sqlite3_step(st) == SQLITE_ROW) out = FromRow(st);
  sqlite3_finalize(st);
  return out;
}

// models.status follows the promotion log: the current one is "promoted", earlier
// promoted ones "retired". The model made current scores everything again: rows may have
// been rewritten while another model was current (its rescore_from marks are consumed).
static Status SyncStatus(Db& db) {
  return db.Exec(
      "UPDATE models SET status = 'retired' WHERE status = 'promoted';"
      "UPDATE models SET status = 'promoted' WHERE id = (SELECT model_id FROM model_promotions WHERE rolled_back = 0"
      " ORDER BY id DESC LIMIT 1);"
      "DELETE FROM scored WHERE model_id = (SELECT id FROM models WHERE status = 'promoted');");
}

Status Promote(Db& db, int64_t id, int64_t now_ms) {
  Result<std::vector<ModelRecord>> all = ListModels(db);
  if (!all) return all.error();
  bool known = false;
  for (const ModelRecord& m : *all) known |= (m.id == id && !m.file.empty());
  if (!known) return Status::NotFound("no model " + std::to_string(id) + " with a file (see vigil models)");
  VIGIL_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE; INSERT INTO model_promotions(model_id, promoted_ms) VALUES(" +
                                std::to_string(id) + ", " + std::to_string(now_ms) + ");"));
  Status s = SyncStatus(db);
  if (!s.ok()) {
    (void)db.Exec("ROLLBACK");
    return s;
  }
  return db.Exec("COMMIT");
}

Result<std::optional<int64_t>> Rollback(Db& db) {
  VIGIL_RETURN_IF_ERROR(db.Exec(
      "BEGIN IMMEDIATE; UPDATE model_promotions SET rolled_back = 1 WHERE id = (SELECT max(id) FROM model_promotions"
      " WHERE rolled_back = 0);"));
  Status s = SyncStatus(db);
  if (!s.ok()) {
    (void)db.Exec("ROLLBACK");
    return s;
  }
  VIGIL_RETURN_IF_ERROR(db.Exec("COMMIT"));
  Result<std::optional<ModelRecord>> cur = CurrentModel(db);
  if (!cur) return cur.error();
  return *cur ? std::optional<int64_t>((*cur)->id) : std::nullopt;
}

}  // namespace vigil::model
