// `vigil export`: a table of vigil.db as CSV.
#pragma once

#include <climits>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::store {

struct ExportQuery {
  std::string table = "features";  // features | latest_features | failure_history
  bool labelled_only = true;       // features: rows with a known label only
  int64_t from_ms = INT64_MIN;     // window start / event time, inclusive
  int64_t until_ms = INT64_MAX;    // exclusive
  std::vector<std::string> machines;  // empty = all
  // features: > 0 adds label_rul_hours, the remaining-useful-life label vigil train learns
  // (common/remaining_life.h: hours to the next failure, capped at this; empty while unknown).
  int64_t rul_cap_ms = 0;
};

// Streams a table as CSV (header, ISO-8601 UTC times, empty cells for NULL) to out.
// Returns the number of data rows. Opens the database read-only.
Result<int64_t> ExportCsv(const std::string& db_path, const Config& config, const ExportQuery& q,
                          std::FILE* out);

}  // namespace vigil::store
