// Folder src/lake/: owns the data lake on disk: the line format (line_format), file names
// (paths), the writer's log and its split into segments (jsonl_writer, segment_log), crash
// recovery, archive compaction, the reader, disk guard and retention. Calls src/common/ only.
//
// LakeWriter: takes the JSON lines of the raw lake and the quarantine and publishes them as
// the partitioned segment files of contract §2.
//
// Line schema (contract §2), one message per line, '\n'-terminated:
//   raw:        {"received_at":"<ISO UTC ms>","topic":"<topic>","payload":<payload, minified>}
//   quarantine: {"received_at":..,"topic":..,"reason":"<code>","detail":"<why>","payload":..}
// The caller builds lines (lake/line_format.h); this class only places them.
//
// Partitions: raw by event date and machine, quarantine by receive date (lake/paths.h).
// Every line goes first to the writer's one active log (lake/segment_log.h): one descriptor
// and one sequential file whatever the number of (date, machine, kind) streams, so a wide
// plant's thousands of interleaved streams cost what one stream costs. The log is
// *published* (split into one segment per stream, synced, renamed; then removed) when one
// of its streams reaches lake.segment_max_bytes, when it reaches lake.log_max_bytes or
// lake.segment_max_age, and at Close(). "Complete" means
// published: only published segments are read downstream. A log left by a crash is
// published by RecoverLogs() at start-up.
//
// A log filled by Append is published by the next Tick (or by the append after, if no Tick
// came), so the thread that acknowledges messages does not wait for a publish.
//
// Durability (lake.fsync): never = write(2) only; interval = Tick() fdatasyncs the log at
// least every fsync_interval, and every publish syncs the filesystem before and after the
// renames; always = fdatasync of the log after every append, so an appended line survives
// a power cut once Append returns.
//
// Thread-safety: all methods may be called from any thread. Appends are serialized by mu_;
// a publish runs outside it (under publish_mu_) on a log already detached, so ingest goes
// on into a fresh log while the old one is split.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "lake/file_system.h"
#include "lake/segment_log.h"
#include "vigil/clock.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::lake {

struct LakeStats {
  uint64_t lines = 0;
  uint64_t bytes = 0;
  uint64_t segments_published = 0;
  uint64_t open_segments = 0;  // streams waiting in the active log
  uint64_t log_bytes = 0;      // bytes in the active log
  uint64_t syncs = 0;
  uint64_t publish_errors = 0;
};

class LakeWriter {
 public:
  LakeWriter(const LakeConfig& config, std::string lake_dir, Clock& clock, FileSystem& fs);
  ~LakeWriter();  // publishes what is pending (errors logged)
  LakeWriter(const LakeWriter&) = delete;
  LakeWriter& operator=(const LakeWriter&) = delete;

  // Appends one complete line (ending in '\n'). OK means the line is in the log (synced
  // when lake.fsync = always); on error nothing of the line is in the lake.
  Status AppendRaw(std::string_view date, std::string_view machine_id, std::string_view kind,
                   std::string_view line);
  Status AppendQuarantine(std::string_view date, std::string_view line);

  // Periodic work (call every ~100 ms): publishes an aged log, runs the interval sync,
  // retries a publish that failed.
  Status Tick();
  // Makes everything appended so far durable (whatever the policy).
  Status SyncAll();
  // Publishes everything pending.
  Status Close();

  LakeStats Stats() const;
  const std::string& lake_dir() const { return lake_dir_; }

 private:
  struct Log {
    int64_t id = 0;
    int64_t opened_ms = 0;
    std::string path;
    std::unique_ptr<WritableFile> file;
    uint64_t bytes = 0;
    LogIndex index;
    bool broken = false;    // an append failed: take no more lines, publish what it holds
    bool attempted = false; // a publish ran: its segments may exist already
  };

  Status Append(std::string_view partition, std::string_view kind, std::string_view line);
  Status OpenLog();                        // requires mu_
  std::shared_ptr<Log> DetachLog();        // requires mu_
  Status Publish(std::shared_ptr<Log> log);  // takes publish_mu_
  Status RetryFailed();                    // takes publish_mu_

  const LakeConfig config_;
  const std::string lake_dir_;
  Clock& clock_;
  FileSystem& fs_;

  mutable std::mutex mu_;
  std::shared_ptr<Log> log_;     // guarded by mu_: the active log, null until the first line
  std::vector<std::shared_ptr<Log>> ready_;  // guarded by mu_: full logs the next Tick publishes
  std::string record_;           // guarded by mu_: reused record buffer
  int64_t last_log_id_ = 0;      // guarded by mu_
  LakeStats stats_;              // guarded by mu_
  bool unsynced_ = false;        // guarded by mu_: data written since the last sync
  int64_t last_sync_ms_ = 0;     // guarded by mu_

  std::mutex publish_mu_;                    // one publish at a time
  std::vector<std::shared_ptr<Log>> failed_;  // guarded by publish_mu_: retried by Tick
};

}  // namespace vigil::lake
