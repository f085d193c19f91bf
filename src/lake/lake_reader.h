// Reading the raw lake back: which published segments match a filter (pruned by the
// partition path, so unrelated days and machines are never opened); a line's parts are
// lake/line_format.h's. Used by the processor and `vigil replay`; thread-safe.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lake/file_system.h"
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

// Calls line(text, line_no) for every line of a file (without its '\n'; a last line
// without one included), reading `piece` bytes at a time: memory stays bounded by the
// piece plus the longest line, whatever the file's size. Every line handed out has at
// least simdjson::SIMDJSON_PADDING readable bytes after it. The first error ends it. Its
// buffers are the calling thread's: `line` must not call ForEachLine itself.
Status ForEachLine(FileSystem& fs, const std::string& path,
                   const std::function<Status(std::string_view line, int64_t line_no)>& line,
                   size_t piece = size_t{16} << 20);

}  // namespace vigil::lake
