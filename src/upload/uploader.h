// Uploader: copies every queued raw segment to the bucket, once.
//
// The queue is <lake>/.upload (lake/paths.h): hard links the lake writer makes when it
// publishes a raw segment. For each queued segment, oldest first, the uploader reads it,
// PUTs it as <prefix>/raw/gateway=<id>/date=D/machine_id=M/<name> with its SHA-256, then
// appends (key, size, sha256, ETag, time) to the ledger <data_dir>/upload/ledger.tsv and
// fdatasyncs it, and only then removes the queue link. So:
//   - a restart resumes with what is still queued, and never sends what the ledger holds
//     (a link found with its key in the ledger is a crash after the append: just removed);
//   - a crash during a PUT, or between the PUT and the ledger, leaves the link and the
//     ledger without the key: the PUT is repeated, an idempotent overwrite of the same
//     bytes (segments never change once published).
// The link keeps the bytes when the processor archives the segment or retention trims it
// first, so nothing is lost while the bucket is unreachable; the price is disk: the
// backlog (Stats) is what a long outage costs, and a full disk stops intake as before.
//
// Open() also queues the published raw segments not yet in the ledger (segments from
// before upload was configured; archived ones are not: they were compacted).
// RunOnce() is one pass; Start() runs passes on a thread (vigil run): after a failure it
// waits 1 s, doubling up to upload.retry_max, else upload.interval when the queue is empty.
// Only one uploader per data directory (<data_dir>/upload/upload.lock).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "common/dir_lock.h"
#include "upload/s3_client.h"
#include "vigil/clock.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::upload {

struct UploadStats {
  uint64_t objects = 0, bytes = 0;            // uploaded by this process
  uint64_t failures = 0;                      // failed PUTs (retried)
  uint64_t backlog_files = 0, backlog_bytes = 0;  // queued, measured at the last pass
  uint64_t ledger_objects = 0;                // every object the ledger holds
  int64_t last_success_ms = 0;                // 0: none yet by this process
  std::string last_error;                     // empty after a success
};

struct PassSummary {
  uint64_t uploaded = 0, bytes = 0, skipped = 0;  // skipped: already in the ledger
  uint64_t remaining = 0;                         // still queued after the pass
};

// <data_dir>/upload, its ledger and lock.
std::string UploadDir(const std::string& data_dir);
std::string LedgerPath(const std::string& data_dir);

// The object key of a lake-relative raw segment path ("raw/date=…/machine_id=…/x.jsonl").
std::string ObjectKey(const UploadConfig& c, const std::string& relative_path);

// The queue's files and bytes (vigil status, without an uploader).
void MeasureQueue(const std::string& data_dir, uint64_t* files, uint64_t* bytes);
// The number of complete ledger records (vigil status).
uint64_t CountLedger(const std::string& data_dir);

class Uploader {
 public:
  Uploader(const Config& config, Clock& clock);
  ~Uploader();  // stops

  // Takes the lock, creates the queue and loads the ledger, queues published raw
  // segments not uploaded yet. kUnavailable when another process uploads.
  Status Open(const std::string& who);
  // One pass over the queue, oldest first; stops at the first failure (returned) or when
  // *abort. progress(done_bytes, total_bytes) after each object.
  Result<PassSummary> RunOnce(const std::atomic<bool>* abort = nullptr,
                              const std::function<void(uint64_t, uint64_t)>& progress = {});

  void Start();
  void Stop();
  UploadStats Stats() const;

 private:
  struct Queued {
    int64_t opened_ms;
    std::string relative;  // "raw/date=…/machine_id=…/name"
    uint64_t bytes;
    bool operator<(const Queued& o) const { return std::tie(opened_ms, relative) < std::tie(o.opened_ms, o.relative); }
  };
  std::vector<Queued> ListQueue(uint64_t* total_bytes) const;
  Status AppendLedger(const std::string& key, uint64_t size, const std::string& sha, const std::string& etag);
  void Loop();

  const Config config_;
  Clock& clock_;
  const std::string lake_dir_, queue_dir_;
  std::unique_ptr<DirLock> lock_;
  std::unique_ptr<S3Client> client_;
  std::set<std::string> ledger_;  // keys
  int ledger_fd_ = -1;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<bool> abort_{false};
  UploadStats stats_;
  std::thread thread_;
};

}  // namespace vigil::upload
