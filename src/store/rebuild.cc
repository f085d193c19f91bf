#include "store/rebuild.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

#include "store/db.h"
#include "store/feature_store.h"

namespace vigil::store {

Status FeatureStore::ReplaceMachines(const std::string& other_path, const std::vector<std::string>& machines) {
  std::string list;
  for (const std::string& m : machines) list += (list.empty() ? "" : ", ") + Quoted(m);
  VIGIL_RETURN_IF_ERROR(db_.Exec("ATTACH DATABASE " + Quoted(other_path) + " AS rebuilt"));
  std::string sql = "BEGIN IMMEDIATE;";
  for (const char* t : {"features", "latest_features", "failure_history", "reading_chunks", "block_partials", "watermarks", "rescore_from"}) {
    sql += std::string("DELETE FROM main.") + t + " WHERE machine_id IN (" + list + ");";
    sql += std::string("INSERT INTO main.") + t + " SELECT * FROM rebuilt." + t + " WHERE machine_id IN (" + list + ");";
  }
  sql += "INSERT OR IGNORE INTO main.consumed_segments SELECT * FROM rebuilt.consumed_segments; COMMIT;";
  Status s = db_.Exec(sql);
  if (!s.ok()) (void)db_.Exec("ROLLBACK");
  (void)db_.Exec("DETACH DATABASE rebuilt");
  return s;
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
    for (const auto& [name, create] : missing) {
      sql += create + ";";
      if (!name.empty()) sql += "INSERT INTO main.\"" + name + "\" SELECT * FROM old.\"" + name + "\";";
    }
    s = exec(sql + "COMMIT;");
    if (!s.ok()) (void)db->Exec("ROLLBACK");
    (void)db->Exec("DETACH DATABASE old");
  }
  return s;
}

Status ReplaceDatabase(const std::string& from_path, const std::string& to_path) {
  for (const std::string& p : {from_path, to_path}) {
    Result<Db> db = Db::Open(p, OpenMode::kReadWrite);
    if (!db) {
      if (p == to_path) continue;  // no current database: nothing to switch
      return Status::IoError("cannot open " + p);
    }
    Status s = db->Exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;");
    if (!s.ok()) return Status::IoError("switching " + p + " out of WAL mode: " + s.message());
  }
  if (std::rename(from_path.c_str(), to_path.c_str()) != 0) {
    return Status::IoError("rename " + from_path + " -> " + to_path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace vigil::store
