// Crash recovery of the lake, run once at start-up before any new segment is opened.
//
// A segment left ".<name>.open" by a crash (kill -9, power cut) holds lines that were
// written, and maybe acknowledged, but never published. Recovery keeps every complete line
// that parses as a JSON object, hands every other piece (a torn last line, or garbage a
// power cut left in the middle) to `on_torn` for the quarantine, writes the kept lines
// back atomically, and publishes the segment under its final name. Empty segments are
// removed. Segments still flock(2)ed by a live writer (another process, such as an
// import running beside the daemon) are left alone. Running it twice, or crashing during it, is harmless: a piece may be
// quarantined twice, a kept line is never lost or duplicated.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "lake/file_system.h"
#include "vigil/status.h"

namespace vigil::lake {

struct TornPiece {
  std::string segment;  // path relative to the lake dir, under its final name
  int64_t offset = 0;   // byte offset in the open segment
  std::string bytes;    // without the '\n'
};

struct RecoveryReport {
  int logs_recovered = 0;      // lake/segment_log.h
  int segments_published = 0;
  int segments_removed = 0;
  int torn_pieces = 0;
};

// `on_torn` must make the piece durable (the quarantine) before returning OK; on error the
// segment is left alone for the next start.
Result<RecoveryReport> RecoverOpenSegments(
    const std::string& lake_dir, FileSystem& fs,
    const std::function<Status(const TornPiece&)>& on_torn);

}  // namespace vigil::lake
