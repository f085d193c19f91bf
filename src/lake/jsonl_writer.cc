#include "lake/jsonl_writer.h"

#include "common/logging.h"
#include "lake/paths.h"

namespace vigil::lake {

LakeWriter::LakeWriter(const LakeConfig& config, std::string lake_dir, Clock& clock,
                       FileSystem& fs)
    : config_(config), lake_dir_(std::move(lake_dir)), clock_(clock), fs_(fs) {
  last_sync_ms_ = clock_.NowMs();
}

LakeWriter::~LakeWriter() {
  if (Status s = Close(); !s.ok()) GetLogger("lake")->error("closing the lake: {}", s.message());
}

Status LakeWriter::AppendRaw(std::string_view date, std::string_view machine_id,
                             std::string_view kind, std::string_view line) {
  return Append(RawPartition(date, machine_id), kind, line);
}

Status LakeWriter::AppendQuarantine(std::string_view date, std::string_view line) {
  return Append(QuarantinePartition(date), "", line);
}

Status LakeWriter::OpenLog() {
  const std::string wal = WalDir(lake_dir_);
  std::vector<std::string> created;
  VIGIL_RETURN_IF_ERROR(fs_.CreateDirs(wal, &created));
  if (config_.fsync == FsyncPolicy::kAlways && !created.empty()) {
    VIGIL_RETURN_IF_ERROR(fs_.SyncDir(lake_dir_));
  }
  const int64_t now = clock_.NowMs();
  // The id names the log and every segment split from it: unique among live writers (the
  // file is created exclusively) and increasing within this one.
  int64_t id = std::max(now, last_log_id_ + 1);
  for (int attempt = 0;; ++attempt, ++id) {
    const std::string path = wal + "/" + LogFileName(id);
    Result<std::unique_ptr<WritableFile>> f = fs_.NewFile(path);
    if (!f) {
      if (attempt < 1000 && fs_.Exists(path)) continue;  // another writer's, same ms
      return f.error();
    }
    if (config_.fsync == FsyncPolicy::kAlways) VIGIL_RETURN_IF_ERROR(fs_.SyncDir(wal));
    auto log = std::make_shared<Log>();
    log->id = id;
    log->opened_ms = now;
    log->path = path;
    log->file = std::move(*f);
    log_ = std::move(log);
    last_log_id_ = id;
    return Status::Ok();
  }
}

std::shared_ptr<LakeWriter::Log> LakeWriter::DetachLog() {
  unsynced_ = false;  // the publish syncs what the log holds
  stats_.open_segments = 0;
  stats_.log_bytes = 0;
  return std::move(log_);
}

Status LakeWriter::Append(std::string_view partition, std::string_view kind, std::string_view line) {
  std::vector<std::shared_ptr<Log>> waiting;
  Status status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (log_ && log_->broken) ready_.push_back(DetachLog());
    if (!log_) VIGIL_RETURN_IF_ERROR(OpenLog());
    Log& log = *log_;
    record_.clear();
    AppendLogRecord(partition, kind, line, !log.index.IsCurrent(partition, kind), &record_);
    status = log.file->Append(record_);
    if (!status.ok()) {
      // The file was cut back, but a log that failed once takes no more lines: what it
      // holds is published and the next line starts a fresh log.
      log.broken = true;
    } else {
      const uint64_t stream_bytes =
          log.index.Add(partition, kind, log.bytes + record_.size() - line.size(), line.size());
      log.bytes += record_.size();
      stats_.lines++;
      stats_.bytes += line.size();
      stats_.open_segments = log.index.streams().size();
      stats_.log_bytes = log.bytes;
      if (config_.fsync == FsyncPolicy::kAlways) {
        status = log.file->Sync();
        stats_.syncs++;
      } else {
        unsynced_ = true;
      }
      if (static_cast<int64_t>(log.bytes) >= config_.log_max_bytes ||
          static_cast<int64_t>(stream_bytes) >= config_.segment_max_bytes) {
        ready_.push_back(DetachLog());
      }
    }
    // A full log is published by the next Tick (the main loop's thread), so the message
    // callback is not held up; only when one is already waiting (no Tick caller, such as
    // an import, or a disk slower than the stream) does the appending thread publish.
    if (ready_.size() < 2) return status;
    waiting.swap(ready_);
  }
  // The line is in the log whatever the publish does: a failed publish is retried by Tick
  // (and by recovery after a crash), never reported as a failed append.
  for (auto& log : waiting) (void)Publish(std::move(log));
  return status;
}

Status LakeWriter::Publish(std::shared_ptr<Log> log) {
  std::lock_guard<std::mutex> lock(publish_mu_);
  WritableFile* file = log->file.get();
  LogReader read = [file](uint64_t offset, size_t len, char* out) { return file->ReadAt(offset, len, out); };
  Result<PublishResult> r = PublishLog(fs_, lake_dir_, log->id, log->index, read, config_.fsync, log->attempted);
  log->attempted = true;
  auto lake_log = GetLogger("lake");
  if (!r) {
    {
      std::lock_guard<std::mutex> stats_lock(mu_);
      stats_.publish_errors++;
    }
    lake_log->error("publishing {} failed (kept and retried): {}", log->path, r.error().message());
    failed_.push_back(std::move(log));
    return r.error();
  }
  {
    std::lock_guard<std::mutex> stats_lock(mu_);
    stats_.segments_published += r->segments;
  }
  // Not closed here: a Tick may be syncing it right now; the last reference closes it.
  Status status = fs_.Remove(log->path);
  if (!status.ok()) {
    // Every segment is published; recovery at the next start finds them and removes the log.
    lake_log->error("{} is published but could not be removed: {}", log->path, status.message());
  }
  return status;
}

Status LakeWriter::RetryFailed() {
  std::vector<std::shared_ptr<Log>> retry;
  {
    std::lock_guard<std::mutex> lock(publish_mu_);
    retry.swap(failed_);
  }
  Status first;
  for (auto& log : retry) {
    Status s = Publish(std::move(log));
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

Status LakeWriter::Tick() {
  std::shared_ptr<Log> to_sync;
  std::vector<std::shared_ptr<Log>> waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiting.swap(ready_);
    const int64_t now = clock_.NowMs();
    if (log_ && now - log_->opened_ms >= config_.segment_max_age_ms) {
      waiting.push_back(DetachLog());
    } else if (config_.fsync == FsyncPolicy::kInterval && unsynced_ &&
               now - last_sync_ms_ >= config_.fsync_interval_ms) {
      // Everything written up to here is covered by the sync below.
      to_sync = log_;
      unsynced_ = false;
      last_sync_ms_ = now;
      stats_.syncs++;
    }
  }
  // Outside the lock, so ingest is not stalled by a slow disk; the log stays open while
  // this holds it.
  Status status = to_sync ? to_sync->file->Sync() : Status::Ok();
  Status retried = RetryFailed();  // earlier failures first: each publish is tried once a Tick
  if (status.ok()) status = retried;
  for (auto& log : waiting) {
    Status s = Publish(std::move(log));
    if (status.ok()) status = s;
  }
  return status;
}

Status LakeWriter::SyncAll() {
  std::shared_ptr<Log> log;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!unsynced_ || !log_) return Status::Ok();
    unsynced_ = false;
    stats_.syncs++;
    log = log_;
  }
  return log->file->Sync();
}

Status LakeWriter::Close() {
  std::vector<std::shared_ptr<Log>> waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiting.swap(ready_);
    if (log_) waiting.push_back(DetachLog());
  }
  Status status;
  for (auto& log : waiting) {
    Status s = Publish(std::move(log));
    if (status.ok()) status = s;
  }
  Status retried = RetryFailed();
  return status.ok() ? retried : status;
}

LakeStats LakeWriter::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace vigil::lake
