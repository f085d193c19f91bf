// The lake's write-ahead log: how a writer takes lines for thousands of streams through
// one file, and how that file becomes the partitioned segments of contract §2.
//
// Every line a LakeWriter accepts is appended to its one active log,
// <lake>/.wal/<log id>.log, so ingest needs one descriptor and one fdatasync per sync
// whatever the number of (date, machine, sensor) streams interleaved in the input. A log
// is a sequence of records:
//
//   #<partition>\t<kind>\n     a key line: the stream of the lines that follow
//   <lake line>\n              a data line, exactly as it will appear in its segment
//
// A key line is written only when the stream changes, so data grouped by stream costs
// nothing extra. At publish time the log is split: each stream's lines are written once
// into ".<kind>-<log id>-<n>.jsonl.open" in its partition (n = the stream's order of first
// appearance in the log), the filesystem is synced, every file is renamed to its final
// name, synced again, and only then is the log removed. The names depend on the log alone,
// so a publish cut short by a crash is finished by recovery from the same log without
// duplicating a segment that was already renamed (its content is compared).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lake/file_system.h"
#include "lake/recovery.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::lake {

struct LogExtent {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// The lines of one stream in a log.
struct LogStream {
  std::string partition;  // relative to the lake: "raw/date=…/machine_id=…" or "quarantine/date=…"
  std::string kind;       // sensor name, "failure", or "" (quarantine)
  uint64_t index = 0;     // 1-based order of first appearance: the segment name's counter
  uint64_t bytes = 0;
  std::vector<LogExtent> extents;  // in log order; adjacent lines merged into one extent
};

// Which bytes of a log belong to which stream. Not thread-safe.
class LogIndex {
 public:
  // True when the last line added belongs to (partition, kind): no key line is needed.
  bool IsCurrent(std::string_view partition, std::string_view kind) const;
  // Records that the data line at [offset, offset + length) belongs to (partition, kind);
  // returns that stream's bytes in the log.
  uint64_t Add(std::string_view partition, std::string_view kind, uint64_t offset, uint64_t length);

  const std::vector<LogStream>& streams() const { return streams_; }
  uint64_t lines() const { return lines_; }

 private:
  std::vector<LogStream> streams_;
  std::unordered_map<std::string, size_t> by_key_;  // partition + '\t' + kind -> streams_ index
  size_t current_ = SIZE_MAX;
  uint64_t lines_ = 0;
  std::string key_buf_;
};

// Appends the record for one line (with its key line when `new_stream`) to *out.
void AppendLogRecord(std::string_view partition, std::string_view kind, std::string_view line,
                     bool new_stream, std::string* out);

// Reads len bytes of the log at offset into out.
using LogReader = std::function<Status(uint64_t offset, size_t len, char* out)>;

struct PublishResult {
  uint64_t segments = 0;  // published by this call
  uint64_t already = 0;   // found published with the same content (recovery, retry)
};

// Splits a log into its segments (see the file comment). `verify_existing`: a segment
// whose final name exists is compared and skipped when equal (set when a publish of this
// log may have run before: recovery, a retry). Otherwise, or when it differs, the stream
// goes to a fresh name. On error some segments may be published: call again with
// verify_existing = true.
Result<PublishResult> PublishLog(FileSystem& fs, const std::string& lake_dir, int64_t log_id,
                                 const LogIndex& index, const LogReader& read, FsyncPolicy fsync,
                                 bool verify_existing);

// The logs in <lake>/.wal as (id, path), oldest first. The second form is for views: a
// directory that cannot be read lists nothing.
Status ListLogs(const std::string& lake_dir, std::vector<std::pair<int64_t, std::string>>* logs);
std::vector<std::pair<int64_t, std::string>> ListLogs(const std::string& lake_dir);

// The newest lines waiting in the logs for partitions starting with `prefix` (e.g.
// "quarantine/"), oldest first, at most n: read from the last `tail_bytes` of each log, so
// a line whose key line lies before that is not seen. For views (the API's samples).
std::vector<std::string> NewestLogLines(const std::string& lake_dir, std::string_view prefix, size_t n,
                                        size_t tail_bytes = 64 * 1024);

// Crash recovery of the logs in <lake>/.wal that no live process holds (flock): complete
// records are published as above, anything else (a torn last record, garbage from a power
// cut, a key line that is not a lake partition) goes to `on_torn`, and the log is removed.
// Run at start-up before the writer takes lines; also safe beside other writers. A log is
// read `piece` bytes at a time: memory holds its index and a few pieces, whatever its size.
Result<RecoveryReport> RecoverLogs(const std::string& lake_dir, FileSystem& fs, FsyncPolicy fsync,
                                   const std::function<Status(const TornPiece&)>& on_torn,
                                   size_t piece = size_t{1} << 20);

}  // namespace vigil::lake
