// The model registry in vigil.db: `models` (id, created_at, data range, row counts,
// parameters, metrics, file, status) with the files under <data_dir>/models/, and the
// promotion log `model_promotions` (the current model is the newest promotion not rolled
// back, so a rollback restores the one before). Also creates the tables of scoring and
// alerts: `predictions`, `latest_predictions`, `alerts`.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/prediction.h"
#include "vigil/status.h"

namespace vigil::model {

struct ModelRecord {
  int64_t id = 0;
  int64_t created_ms = 0, data_from_ms = 0, data_to_ms = 0, split_ms = 0;
  int64_t train_rows = 0, test_rows = 0, train_positives = 0, test_positives = 0;
  std::string params_json, metrics_json, file, status;
};

// An open vigil.db (read-write, WAL, busy timeout) with the model tables created.
class Db {
 public:
  static Result<Db> Open(const std::string& path);
  ~Db();
  Db(Db&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  sqlite3* get() const { return db_; }
  Status Exec(const std::string& sql);

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

Result<int64_t> InsertModel(Db& db, const ModelRecord& m);  // returns the id
// A new, unpublished row of `alerts` (the outbox publishes it).
Status InsertAlert(Db& db, const Alert& a);
Status UpdateModel(Db& db, const ModelRecord& m);
// The feature columns a model was trained on, in order (from its params' "columns").
std::vector<std::string> ModelColumns(const ModelRecord& m);
Result<std::vector<ModelRecord>> ListModels(Db& db);
Result<std::optional<ModelRecord>> CurrentModel(Db& db);
// Makes id current (kNotFound for an unknown id or one without a file).
Status Promote(Db& db, int64_t id, int64_t now_ms);
// Undoes the newest promotion; returns the model now current (none: nullopt).
Result<std::optional<int64_t>> Rollback(Db& db);

}  // namespace vigil::model
