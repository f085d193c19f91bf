#include "store/rebuild.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include <sqlite3.h>

#include "store/db.h"
#include "store/feature_store.h"

namespace vigil::store {

Status FeatureStore::ReplaceMachines(const std::string& other_path, const std::vector<std::string>& machines) {
  std::string list;
  for (const std::string& m : machines) list += (list.empty() ? "" : ", ") + Quoted(m);
  VIGIL_RETURN_IF_ERROR(db_.Exec("ATTACH DATABASE " + Quoted(other_path) + " AS rebuilt"));
  std::string sql = "BEGIN IMMEDIATE;";
  for (const char* t : {"features", "latest_features", "failure_history", "reading_chunks", "series_tails", "block_partials", "watermarks", "rescore_from",
                        "baseline_runs", "label_counts"}) {
    sql += std::string("DELETE FROM main.") + t + " WHERE machine_id IN (" + list + ");";
    sql += std::string("INSERT INTO main.") + t + " SELECT * FROM rebuilt." + t + " WHERE machine_id IN (" + list + ");";
  }
  sql += "INSERT OR IGNORE INTO main.consumed_segments SELECT * FROM rebuilt.consumed_segments; COMMIT;";
  Status s = db_.Exec(sql);
  if (!s.ok()) (void)db_.Exec("ROLLBACK");
  (void)db_.Exec("DETACH DATABASE rebuilt");
  // On disk before the caller deletes the rebuilt file, their only other copy.
  if (s.ok()) s = db_.FlushWal();
  return s.ok() ? SyncWal(path_) : s;
}

Status CarryOverTables(const std::string& from_path, const std::string& to_path) {
  Result<Db> db = Db::Open(to_path, OpenMode::kReadWrite);
  if (!db) return Status::IoError("cannot open " + to_path);
  auto exec = [&](const std::string& sql) -> Status {
    Status s = db->Exec(sql);
    if (s.ok()) return s;
    return Status::IoError("carrying tables over from " + from_path + ": " + s.message());
  };
  // Tables and indexes of the old database that the new one lacks, with their rows.
  std::vector<std::pair<std::string, std::string>> missing;  // name, CREATE statement
  Status s = exec("ATTACH DATABASE " + Quoted(from_path) + " AS old");
  if (s.ok()) {
    Result<Stmt> st = db->Prepare(
        "SELECT name, sql FROM old.sqlite_master WHERE type = 'table' AND sql IS NOT NULL"
        " AND name NOT LIKE 'sqlite_%' AND name NOT IN (SELECT name FROM main.sqlite_master)"
        " UNION ALL SELECT '', sql FROM old.sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        " AND tbl_name NOT IN (SELECT name FROM main.sqlite_master)"
        " ORDER BY 1 DESC");  // tables before their indexes (named '')
    while (st) {
      Result<bool> row = st->Step();
      if (!row || !*row) break;
      missing.emplace_back(st->Text(0), st->Text(1));
    }
    std::string sql = "BEGIN IMMEDIATE;";
    bool predictions = false;
    for (const auto& [name, create] : missing) {
      sql += create + ";";
      if (!name.empty()) sql += "INSERT INTO main.\"" + name + "\" SELECT * FROM old.\"" + name + "\";";
      predictions = predictions || name == "predictions";
    }
    if (predictions) {
      // Predictions of windows the rebuild no longer has (another window length, a
      // machine gone from the lake) go in the same transaction; the kept ones are scored
      // again from rescore_from.
      for (const char* t : {"predictions", "latest_predictions"}) {
        sql += std::string("DELETE FROM main.") + t + " WHERE NOT EXISTS (SELECT 1 FROM main.features f WHERE f.machine_id = " +
               t + ".machine_id AND f.window_start_ms = " + t + ".window_start_ms);";
      }
    }
    s = exec(sql + "COMMIT;");
    if (!s.ok()) (void)db->Exec("ROLLBACK");
    (void)db->Exec("DETACH DATABASE old");
  }
  return s;
}

namespace {

// Copies every page of from_path into to_path in one write transaction of to_path (WAL):
// readers of to_path keep their snapshot until they end their read transaction, and see
// the rebuilt database after it. Waits kBusyTimeoutMs for another writer (the busy
// handler). The page sizes must be equal (WAL); both files are SQLite's default.
Status CopyInto(const std::string& from_path, const std::string& to_path) {
  Result<Db> from = Db::Open(from_path, OpenMode::kReadWrite);
  if (!from) return Status::IoError("cannot open " + from_path);
  Result<Db> to = Db::Open(to_path, OpenMode::kModel);  // WAL: the swap never blocks readers
  if (!to) return Status::IoError("cannot open " + to_path + ": " + to.error().message());
  sqlite3_backup* b = sqlite3_backup_init(to->get(), "main", from->get(), "main");
  if (!b) return Status::IoError("swapping " + from_path + " into " + to_path + ": " + to->ErrorMessage());
  const int rc = sqlite3_backup_step(b, -1);
  const int done = sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE || done != SQLITE_OK) {
    return Status::IoError("swapping " + from_path + " into " + to_path + ": " + sqlite3_errstr(rc != SQLITE_DONE ? rc : done) +
                           (rc == SQLITE_BUSY ? " (another writer held it for " + std::to_string(kBusyTimeoutMs / 1000) + " s)" : ""));
  }
  (void)to->Exec("PRAGMA wal_checkpoint(PASSIVE)");  // as far as open readers allow
  return Status::Ok();
}

}  // namespace

Status ReplaceDatabase(const std::string& from_path, const std::string& to_path) {
  if (Db::Open(to_path, OpenMode::kReadWrite)) {
    // A current database: its content is replaced in place, beside its readers (a notebook,
    // the sqlite3 shell, the API), which a rename would need out of WAL mode first.
    VIGIL_RETURN_IF_ERROR(CopyInto(from_path, to_path));
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::remove((from_path + suffix).c_str());
    return Status::Ok();
  }
  // None yet: the rebuilt file is renamed in, out of WAL mode first so that no -wal file
  // of it stays behind under the old name.
  {
    Result<Db> db = Db::Open(from_path, OpenMode::kReadWrite);
    if (!db) return Status::IoError("cannot open " + from_path);
    Status s = db->Exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;");
    if (!s.ok()) return Status::IoError("switching " + from_path + " out of WAL mode: " + s.message());
  }
  // A -wal left beside no database (vigil.db deleted or moved alone) would be replayed over
  // the renamed file: SQLite does not tie a WAL to its database.
  if (!std::filesystem::exists(to_path)) {
    for (const char* suffix : {"-wal", "-shm"}) std::remove((to_path + suffix).c_str());
  }
  if (std::rename(from_path.c_str(), to_path.c_str()) != 0) {
    return Status::IoError("rename " + from_path + " -> " + to_path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace vigil::store
