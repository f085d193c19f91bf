// Reading the raw lake back: which published segments match a filter (pruned by the
// partition path, so unrelated days and machines are never opened); a line's parts are
// lake/line_format.h's. Used by the processor and `vigil replay`; thread-safe.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lake/line_format.h"
#include "vigil/status.h"

namespace vigil::lake {

struct LakeFilter {
  bool raw = true;      // lake/raw/
  bool archive = true;  // lake/archive/
  int64_t from_ms = std::numeric_limits<int64_t>::min();  // event time, inclusive
  int64_t until_ms = std::numeric_limits<int64_t>::max();  // event time, exclusive
  std::set<std::string> machines;  // empty = all
};

struct SegmentFile {
  std::string path;
  std::string date;        // YYYY-MM-DD of the partition
  std::string machine_id;
};

// Published raw/archive segments whose partition can hold events in the filter, sorted by
// date, then path. Segments being written (".<name>.open") are never listed.
Result<std::vector<SegmentFile>> ListSegments(const std::string& lake_dir, const LakeFilter& filter);

}  // namespace vigil::lake
