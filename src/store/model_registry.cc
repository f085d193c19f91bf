#include "store/model_registry.h"

#include <algorithm>

#include "store/schema.h"

namespace vigil::store {
namespace {

constexpr const char* kColumns =
    "id, created_ms, data_from_ms, data_to_ms, split_ms, train_rows, test_rows, train_positives, test_positives,"
    " params, metrics, file, status";

ModelRecord FromRow(const Stmt& st) {
  ModelRecord m;
  m.id = st.Int(0);
  m.created_ms = st.Int(1);
  m.data_from_ms = st.Int(2);
  m.data_to_ms = st.Int(3);
  m.split_ms = st.Int(4);
  m.train_rows = st.Int(5);
  m.test_rows = st.Int(6);
  m.train_positives = st.Int(7);
  m.test_positives = st.Int(8);
  m.params_json = st.Text(9);
  m.metrics_json = st.Text(10);
  m.file = st.Text(11);
  m.status = st.Text(12);
  return m;
}

// models.status follows the promotion log: the current one is "promoted", earlier
// promoted ones "retired". The model made current scores everything again: rows may have
// been rewritten while another model was current (its rescore_from marks are consumed).
Status SyncStatus(Db& db) {
  return db.Exec(
      "UPDATE models SET status = 'retired' WHERE status = 'promoted';"
      "UPDATE models SET status = 'promoted' WHERE id = (SELECT model_id FROM model_promotions WHERE rolled_back = 0"
      " ORDER BY id DESC LIMIT 1);"
      "DELETE FROM scored WHERE model_id = (SELECT id FROM models WHERE status = 'promoted');");
}

}  // namespace

Result<ModelDb> ModelDb::Open(const std::string& path) {
  Result<Db> db = Db::Open(path, OpenMode::kModel);
  if (!db) {
    if (db.error().code() == StatusCode::kNotFound) {
      return Status::NotFound("no feature store at " + path + " (run vigil process first)");
    }
    return db.error();
  }
  ModelDb out(std::move(*db));
  VIGIL_RETURN_IF_ERROR(CreateModelTables(out));
  return out;
}

Result<int64_t> InsertModel(Db& db, const ModelRecord& m) {
  Result<Stmt> st = db.Prepare(
      "INSERT INTO models(created_ms, data_from_ms, data_to_ms, split_ms, train_rows, test_rows,"
      " train_positives, test_positives, params, metrics, file, status)"
      " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)");
  if (!st) return st.error();
  const int64_t ints[] = {m.created_ms, m.data_from_ms, m.data_to_ms, m.split_ms,
                          m.train_rows, m.test_rows,    m.train_positives, m.test_positives};
  for (int i = 0; i < 8; ++i) st->Bind(i + 1, ints[i]);
  st->Bind(9, m.params_json).Bind(10, m.metrics_json).Bind(11, m.file).Bind(12, m.status);
  VIGIL_RETURN_IF_ERROR(st->Run());
  return db.LastInsertId();
}

Result<int64_t> FailUnfinishedModels(Db& db) {
  VIGIL_RETURN_IF_ERROR(db.Exec(
      "UPDATE models SET status = 'failed', metrics = '{\"decision\":\"failed: the training did not finish (vigil"
      " stopped, crashed or was killed); marked failed at the next start\"}' WHERE status = 'training'"));
  return db.Changes();
}

Status UpdateModel(Db& db, const ModelRecord& m) {
  Result<Stmt> st = db.Prepare("UPDATE models SET metrics = ?1, file = ?2, status = ?3 WHERE id = ?4");
  if (!st) return st.error();
  return st->Bind(1, m.metrics_json).Bind(2, m.file).Bind(3, m.status).Bind(4, m.id).Run();
}

Result<std::vector<ModelRecord>> ListModels(Db& db) {
  Result<Stmt> st = db.Prepare(std::string("SELECT ") + kColumns + " FROM models ORDER BY id");
  if (!st) return st.error();
  std::vector<ModelRecord> out;
  VIGIL_RETURN_IF_ERROR(st->ForEach([&](const Stmt& row) { out.push_back(FromRow(row)); }));
  return out;
}

Result<std::optional<ModelRecord>> CurrentModel(Db& db) {
  Result<Stmt> st = db.Prepare(std::string("SELECT ") + kColumns +
                               " FROM models WHERE id = (SELECT model_id FROM model_promotions WHERE rolled_back = 0"
                               " ORDER BY id DESC LIMIT 1)");
  if (!st) return st.error();
  Result<bool> row = st->Step();
  if (!row) return row.error();
  std::optional<ModelRecord> out;
  if (*row) out = FromRow(*st);
  return out;
}

Status Promote(Db& db, int64_t id, int64_t now_ms) {
  Result<std::vector<ModelRecord>> all = ListModels(db);
  if (!all) return all.error();
  bool known = false;
  for (const ModelRecord& m : *all) known |= (m.id == id && !m.file.empty());
  if (!known) return Status::NotFound("no model " + std::to_string(id) + " with a file (see vigil models)");
  Result<Transaction> txn = Transaction::Begin(db);
  if (!txn) return txn.error();
  VIGIL_RETURN_IF_ERROR(db.Exec("INSERT INTO model_promotions(model_id, promoted_ms) VALUES(" + std::to_string(id) +
                                ", " + std::to_string(now_ms) + ")"));
  VIGIL_RETURN_IF_ERROR(SyncStatus(db));
  return txn->Commit();
}

Result<std::optional<int64_t>> Rollback(Db& db) {
  {
    Result<Transaction> txn = Transaction::Begin(db);
    if (!txn) return txn.error();
    VIGIL_RETURN_IF_ERROR(db.Exec(
        "UPDATE model_promotions SET rolled_back = 1 WHERE id = (SELECT max(id) FROM model_promotions"
        " WHERE rolled_back = 0)"));
    VIGIL_RETURN_IF_ERROR(SyncStatus(db));
    VIGIL_RETURN_IF_ERROR(txn->Commit());
  }
  Result<std::optional<ModelRecord>> cur = CurrentModel(db);
  if (!cur) return cur.error();
  return *cur ? std::optional<int64_t>((*cur)->id) : std::nullopt;
}

Result<int64_t> CountFailures(Db& db, int64_t from_ms, int64_t until_ms, const std::vector<std::string>& machines) {
  Result<Stmt> st = db.Prepare("SELECT machine_id, count(*) FROM failure_history WHERE timestamp_ms > ?1 AND timestamp_ms < ?2"
                               " GROUP BY machine_id");
  if (!st) return Status::IoError("failure_history: " + st.error().message());
  st->Bind(1, from_ms).Bind(2, until_ms);
  int64_t n = 0;
  for (;;) {
    Result<bool> row = st->Step();
    if (!row) return row.error();
    if (!*row) break;
    if (machines.empty() || std::find(machines.begin(), machines.end(), st->Text(0)) != machines.end()) n += st->Int(1);
  }
  st->Reset();
  return n;
}

}  // namespace vigil::store
