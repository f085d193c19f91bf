// The rebuild's file operations (`vigil reprocess`): swapping a rebuilt vigil.db in, and
// keeping the model stage's tables across it. FeatureStore::ReplaceMachines (the partial
// rebuild) is defined in rebuild.cc too.
#pragma once

#include <string>

#include "vigil/status.h"

namespace vigil::store {

// Atomically puts the database at from_path in place of to_path (both closed): both are
// switched out of WAL mode first, so no stale -wal file can meet the new database.
Status ReplaceDatabase(const std::string& from_path, const std::string& to_path);
// Copies into to_path every table (with its rows) and index of from_path that to_path
// does not have: what `vigil reprocess --all` keeps of the model stage (models, alerts, ...).
Status CarryOverTables(const std::string& from_path, const std::string& to_path);

}  // namespace vigil::store
