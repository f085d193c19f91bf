// The rebuild's file operations (`vigil reprocess`): swapping a rebuilt vigil.db in, and
// keeping the model stage's tables across it. FeatureStore::ReplaceMachines (the partial
// rebuild) is defined in rebuild.cc too.
#pragma once

#include <string>

#include "vigil/status.h"

namespace vigil::store {

// Atomically puts the database at from_path in place of to_path and removes from_path.
// An existing to_path is rewritten in place, in one WAL write transaction (SQLite's backup):
// its readers, even one holding a read transaction open, keep their snapshot and are not
// in the way; only another writer is waited for (kBusyTimeoutMs). Without one, from_path
// is renamed (switched out of WAL mode first).
Status ReplaceDatabase(const std::string& from_path, const std::string& to_path);
// Copies into to_path every table (with its rows) and index of from_path that to_path
// does not have: what `vigil reprocess --all` keeps of the model stage (models, alerts, ...).
// Predictions (and latest predictions) of windows that to_path's features lack are not kept.
Status CarryOverTables(const std::string& from_path, const std::string& to_path);

}  // namespace vigil::store
