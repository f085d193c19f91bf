// Retention: measures an area of the lake (raw, archive, quarantine) and trims it by age
// and total size, oldest segments first (contract §2 layout). A segment's age comes from
// the time in its name (when it was opened), so it does not depend on file times that
// copies and restores change; names without one fall back to the file's mtime.
//
// Memory does not follow the area's files (months of archive are millions): a first walk
// sums their sizes by the hour they were opened, a second deletes, sorting only the hour
// where the size limit falls.
//
// Only published segments ("*.jsonl", not hidden) are deleted, and only their total is
// held to max_bytes (after.bytes, for /metrics, counts every file). Partition directories that
// end up empty are removed, except those of today and yesterday (UTC), which writers may
// be about to use.
#pragma once

#include <cstdint>
#include <string>

#include "vigil/status.h"

namespace vigil::lake {

struct AreaUsage {
  uint64_t bytes = 0;  // every regular file, segments being written included
  uint64_t files = 0;
};

struct RetentionLimits {
  int64_t max_age_ms = 0;  // 0: no age limit
  int64_t max_bytes = 0;   // 0: no size limit
};

struct TrimReport {
  AreaUsage after;
  uint64_t removed_files = 0;
  uint64_t removed_bytes = 0;
};

// A missing area is empty. limits {0, 0} only measures.
// The size limit sorts at most about max_sorted segments at a time (tests: a few).
Result<TrimReport> TrimArea(const std::string& area_dir, const RetentionLimits& limits, int64_t now_ms,
                            uint64_t max_sorted = 65'536);

}  // namespace vigil::lake
