// Reading the raw lake back: which published segments match a filter (pruned by the
// partition path, so unrelated days and machines are never opened), and the parts of a
// raw line (contract §2). Used by `vigil replay`; pure functions, thread-safe.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

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

struct RawLine {
  std::string_view topic;    // as published (points into the line or the parser)
  std::string_view payload;  // the exact payload bytes stored in the line
  int64_t event_ms = 0;      // payload timestamp_utc
  int64_t received_ms = 0;
};

// False (with *why) when the line is not a raw lake line with a parsable timestamp.
bool ParseRawLine(std::string_view line, simdjson::dom::parser& parser, RawLine* out,
                  std::string* why);

}  // namespace vigil::lake
