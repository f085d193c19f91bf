// LakeWriter: appends JSON lines to segment files of the raw lake and the quarantine.
//
// Line schema (contract §2), one message per line, '\n'-terminated:
//   raw:        {"received_at":"<ISO UTC ms>","topic":"<topic>","payload":<payload, minified>}
//   quarantine: {"received_at":..,"topic":..,"reason":"<code>","detail":"<why>","payload":..}
// The caller builds lines (ingest/envelope.h); this class only places them.
//
// Partitions: raw by event date and machine, quarantine by receive date (lake/paths.h).
// A segment is written as ".<name>.open" and *published* (synced per policy, closed,
// renamed to <name>) when it reaches lake.segment_max_bytes or lake.segment_max_age, when
// it is the least recently written of more than lake.max_open_segments, or at Close().
// "Complete" means published: only published segments are read downstream. A segment
// left ".open" by a crash is repaired and published by RecoverOpenSegments() at start-up.
//
// Durability (lake.fsync): never = write(2) only; interval = Tick() runs syncfs(2) at
// least every fsync_interval, and every publish fdatasyncs the file and fsyncs the
// directory; always = fdatasync after every append (and directory fsyncs when files or
// partitions are created), so an appended line survives a power cut once Append returns.
//
// Thread-safety: all methods may be called from any thread (guarded by mu_); Tick's
// syncfs runs outside the lock so ingest is not stalled by a slow disk.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "lake/file_system.h"
#include "vigil/clock.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::lake {

struct LakeStats {
  uint64_t lines = 0;
  uint64_t bytes = 0;
  uint64_t segments_published = 0;
  uint64_t open_segments = 0;
  uint64_t syncs = 0;
};

class LakeWriter {
 public:
  LakeWriter(const LakeConfig& config, std::string lake_dir, Clock& clock, FileSystem& fs);
  ~LakeWriter();  // publishes what is open (errors logged)
  LakeWriter(const LakeWriter&) = delete;
  LakeWriter& operator=(const LakeWriter&) = delete;

  // Appends one complete line (ending in '\n'). On error nothing of the line is in the lake.
  Status AppendRaw(std::string_view date, std::string_view machine_id, std::string_view kind,
                   std::string_view line);
  Status AppendQuarantine(std::string_view date, std::string_view line);

  // Periodic work (call every ~100 ms): publishes aged segments, runs the interval sync.
  Status Tick();
  // Makes everything appended so far durable (whatever the policy).
  Status SyncAll();
  // Publishes every open segment.
  Status Close();

  LakeStats Stats() const;
  const std::string& lake_dir() const { return lake_dir_; }

 private:
  struct Segment {
    std::string key;          // partition + '/' + kind: identifies the open segment
    std::string dir;          // absolute partition directory
    std::string final_name;   // published file name
    std::unique_ptr<WritableFile> file;
    int64_t opened_ms = 0;
    int64_t bytes = 0;
    bool dirty = false;       // appended since its last sync
  };
  using SegmentList = std::list<Segment>;  // most recently written first

  Status Append(std::string_view partition, std::string_view kind, std::string_view line);
  Result<SegmentList::iterator> OpenSegment(std::string key, std::string_view partition,
                                            std::string_view kind);
  Status Publish(SegmentList::iterator it, bool synced);  // erases it
  Status PublishAll();

  const LakeConfig config_;
  const std::string lake_dir_;
  Clock& clock_;
  FileSystem& fs_;

  mutable std::mutex mu_;
  SegmentList segments_;                                         // guarded by mu_
  std::unordered_map<std::string, SegmentList::iterator> open_;  // guarded by mu_
  std::unordered_set<std::string> known_dirs_;                   // guarded by mu_
  std::string key_buf_;                                          // guarded by mu_
  uint64_t counter_ = 0;                                         // guarded by mu_
  LakeStats stats_;                                              // guarded by mu_
  bool unsynced_ = false;        // guarded by mu_: data written since the last syncfs
  int64_t last_sync_ms_ = 0;     // guarded by mu_
};

}  // namespace vigil::lake
