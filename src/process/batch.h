// Folder src/process/: the batch processor (lake segments -> windows, features, labels in
// vigil.db). Calls common, lake and store.
//
// Processor: turns published raw segments into the feature store (contract §3).
//
// A batch: (1) finish moving segments a committed batch already consumed (a crash between
// commit and move), (2) take the next published raw segments (up to batch_max_bytes) and
// parse them a piece at a time (a line that no longer parses goes to the quarantine and is
// counted, the batch goes on), (3) in one SQLite transaction, applied a part (about a
// million readings) at a time so memory stays bounded: merge the readings into the stored
// chunks of their series (same machine, sensor and ms: the first received wins, by
// received_at, then the smaller value), recompute the means of the windows that changed,
// then the features and labels of exactly the rows they affect (rows within the longest
// feature duration after a changed window), from the window values at the edges of those
// rows' ranges and the stored block partials between (process/rolling.h); the labels of
// other rows by range updates (a new failure, a watermark step); refresh latest_features;
// record the batch and its segments; commit (not synced); (4) on a thread of its own while
// the next batch parses and applies, sync the commit, then move the segments from raw/ to
// archive/, compacted (waiting on the disk, not computing); the run waits for it before it
// returns.
// A crash anywhere leaves either an uncommitted batch (its segments are still in raw/ and
// are processed again: dedup makes that exact) or a committed one (step 1 of the next
// batch finishes its moves without reprocessing).
//
// Everything a batch needs from the past comes from the database, never from the archive,
// and only what the new data touches: its cost grows with the new data, not the history.
//
// Not thread-safe; one Processor per data directory at a time (RunPending takes
// <data_dir>/process.lock).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <vector>
#include <string>
#include <string_view>
#include <future>
#include <thread>

#include "common/data_paths.h"
#include "lake/file_system.h"
#include "lake/lake_reader.h"
#include "store/feature_store.h"
#include "vigil/clock.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::process {

// The processors' lock (RunPending, Reprocess; retention takes it to trim the archive).
inline std::string ProcessLockPath(const std::string& data_dir) { return data_paths::ProcessLock(data_dir); }

struct RunSummary {
  int batches = 0;
  store::BatchRecord totals;
};

class Processor {
 public:
  Processor(const Config& config, Clock& clock, lake::FileSystem& fs);
  ~Processor();

  // Runs batches until no published raw segment is left (or *stop). Fails with
  // kUnavailable when another processor holds the lock. `alongside` (may be empty) runs
  // after the last batch committed, while its segments are archived: the model stage
  // reads vigil.db, not the lake, so it need not wait for the archive.
  Result<RunSummary> RunPending(const std::atomic<bool>* stop = nullptr, const std::function<void()>& alongside = {});

  // vigil reprocess: rebuilds the feature store from the whole lake (raw/ and archive/),
  // into <db>.rebuild first, so an interrupted rebuild leaves the current tables intact.
  // machines empty: every table is replaced (a new configuration is allowed: that is
  // how a feature change is applied). Otherwise only those machines' rows are replaced,
  // in one transaction (the configuration must be the database's). Raw segments it read
  // are recorded as consumed, so the next batch only archives them.
  Result<RunSummary> Reprocess(const std::vector<std::string>& machines, const std::atomic<bool>* stop = nullptr);

  // Crash tests: called at named points ("parsed", "before_commit", "after_commit",
  // "moved_one"); a non-OK status ends the run right there, as a crash would.
  std::function<Status(std::string_view point)> fault_hook;
  // Lake bytes a batch takes (at least one segment). Memory does not follow it (parts of
  // at most 1 Mi readings stream through); each batch costs a commit, a checkpoint and an archive
  // join, so a from-scratch run of 10M lines took 18.0 s at 64 MiB and 15.4 s at 256 MiB.
  int64_t batch_max_bytes = int64_t{256} << 20;
  // And at most this many segments: a backlog or an archive of tiny files (a rebuild of
  // months of them) would otherwise make a batch of hundreds of thousands, whose paths and
  // archive plan grow with the lake (bench/reprocess_files.sh: 76 MB at 500,000 files).
  size_t batch_max_files = size_t{1} << 16;

 private:
  Result<bool> RunBatch(store::FeatureStore& db, store::BatchRecord* record);
  Result<RunSummary> RunAll(store::FeatureStore& db, const std::atomic<bool>* stop,
                            const std::function<void()>& alongside = {});
  Result<RunSummary> RunBatches(store::FeatureStore& db, const std::atomic<bool>* stop);
  // Waits for the archive step of the last committed batch; its outcome.
  Status JoinArchiver();

  bool rebuild_ = false;                // read raw/ and archive/, move nothing
  std::set<std::string> only_machines_;  // rebuild of some machines only
  std::unique_ptr<lake::SegmentCursor> rebuild_cursor_;  // where the rebuild is in the lake
  Status Fault(std::string_view point) { return fault_hook ? fault_hook(point) : Status::Ok(); }

  const Config config_;
  Clock& clock_;
  lake::FileSystem& fs_;

  // raw/ as listed beside the store's open (RunPending), for the run's first batch.
  std::future<Result<std::vector<lake::SegmentFile>>> listed_ahead_;
  std::thread archiver_;              // step (4b) of the last committed batch
  uint64_t staged_batches_ = 0;       // names the staged files of step (4a)
  Status archived_;                   // its outcome, read after the join
  std::set<std::string> archiving_;   // its segments: consumed, being moved; not listed again
};

}  // namespace vigil::process
