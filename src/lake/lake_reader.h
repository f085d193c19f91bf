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

// ListSegments' segments in its order, listed a date at a time as they are taken: memory
// follows the largest date, not the lake (months of history are millions of archive
// files), and a lake read in many batches is listed once, not once a batch. A date is
// listed when the cursor reaches it: what is published in it until then is included.
class SegmentCursor {
 public:
  SegmentCursor(std::string lake_dir, LakeFilter filter) : lake_dir_(std::move(lake_dir)), filter_(std::move(filter)) {}
  // The next segment, without taking it; nullptr at the end. Valid until Take.
  Result<const SegmentFile*> Peek();
  void Take() { ++pos_; }

 private:
  std::string lake_dir_;
  LakeFilter filter_;
  bool listed_dates_ = false;
  std::vector<std::string> dates_;  // YYYY-MM-DD of the areas' partitions in the filter, sorted
  size_t next_date_ = 0;
  std::vector<SegmentFile> date_;   // the current date's segments, by path
  size_t pos_ = 0;
};

// Calls line(text, line_no) for every line of a file (without its '\n'; a last line
// without one included), reading `piece` bytes at a time: memory stays bounded by the
// piece plus the longest line, whatever the file's size. Every line handed out has at
// least simdjson::SIMDJSON_PADDING readable bytes after it. The first error ends it. Its
// buffers are the calling thread's: `line` must not call ForEachLine itself.
Status ForEachLine(FileSystem& fs, const std::string& path,
                   const std::function<Status(std::string_view line, int64_t line_no)>& line,
                   size_t piece = size_t{16} << 20);

}  // namespace vigil::lake
