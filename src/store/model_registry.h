// The model registry in vigil.db: `models` (id, created_at, data range, row counts,
// parameters, metrics, file, status) and the promotion log `model_promotions` (the current
// model is the newest promotion not rolled back, so a rollback restores the one before).
// The model files themselves are written by src/model/ (data_paths.h names them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/db.h"
#include "store/records.h"
#include "vigil/status.h"

namespace vigil::store {

// vigil.db opened read-write for the model stage, with its tables created (store/schema.h).
// kNotFound when there is no vigil.db yet (the processor makes it).
class ModelDb : public Db {
 public:
  static Result<ModelDb> Open(const std::string& path);

 private:
  explicit ModelDb(Db&& db) : Db(std::move(db)) {}
};

Result<int64_t> InsertModel(Db& db, const ModelRecord& m);  // returns the id
Status UpdateModel(Db& db, const ModelRecord& m);            // metrics, file, status
Result<std::vector<ModelRecord>> ListModels(Db& db);
Result<std::optional<ModelRecord>> CurrentModel(Db& db);
// Makes id current (kNotFound for an unknown id or one without a file).
Status Promote(Db& db, int64_t id, int64_t now_ms);
// Every row still "training" becomes "failed", its metrics saying why; returns how many.
// Only for the holder of the train lock (data_paths::TrainLock): then no training runs.
Result<int64_t> FailUnfinishedModels(Db& db);
// Undoes the newest promotion; returns the model now current (none: nullopt).
Result<std::optional<int64_t>> Rollback(Db& db);
// Failures recorded with from_ms < time < until_ms (the training period's); with machines,
// only theirs (the training machines of a split by machine).
Result<int64_t> CountFailures(Db& db, int64_t from_ms, int64_t until_ms, const std::vector<std::string>& machines = {});

}  // namespace vigil::store
