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

Status LakeWriter::Append(std::string_view partition, std::string_view kind,
                          std::string_view line) {
  std::lock_guard<std::mutex> lock(mu_);
  key_buf_.assign(partition).append("/").append(kind);
  SegmentList::iterator it;
  if (auto found = open_.find(key_buf_); found != open_.end()) {
    it = found->second;
    if (it != segments_.begin()) segments_.splice(segments_.begin(), segments_, it);
  } else {
    while (static_cast<int64_t>(segments_.size()) >= config_.max_open_segments) {
      VIGIL_RETURN_IF_ERROR(Publish(std::prev(segments_.end()), false));
    }
    Result<SegmentList::iterator> opened = OpenSegment(key_buf_, partition, kind);
    if (!opened) return opened.error();
    it = *opened;
  }
  VIGIL_RETURN_IF_ERROR(it->file->Append(line));
  it->bytes += static_cast<int64_t>(line.size());
  stats_.lines++;
  stats_.bytes += line.size();
  if (config_.fsync == FsyncPolicy::kAlways) {
    VIGIL_RETURN_IF_ERROR(it->file->Sync());
    stats_.syncs++;
  } else {
    it->dirty = true;
    unsynced_ = true;
  }
  if (it->bytes >= config_.segment_max_bytes) {
    VIGIL_RETURN_IF_ERROR(Publish(it, config_.fsync == FsyncPolicy::kAlways));
  }
  return Status::Ok();
}

Result<LakeWriter::SegmentList::iterator> LakeWriter::OpenSegment(std::string key,
                                                                  std::string_view partition,
                                                                  std::string_view kind) {
  std::string dir = lake_dir_ + "/" + std::string(partition);
  if (!known_dirs_.count(dir)) {
    std::vector<std::string> created;
    VIGIL_RETURN_IF_ERROR(fs_.CreateDirs(dir, &created));
    // New directory entries must be durable before lines in them are acknowledged.
    if (config_.fsync == FsyncPolicy::kAlways) {
      for (const std::string& d : created) {
        VIGIL_RETURN_IF_ERROR(fs_.SyncDir(d.substr(0, d.find_last_of('/'))));
      }
    }
    known_dirs_.insert(dir);
  }
  const int64_t now = clock_.NowMs();
  for (int attempt = 0;; ++attempt) {
    std::string name = SegmentFileName(kind, now, ++counter_);
    std::string open_path = dir + "/" + OpenFileName(name);
    if (fs_.Exists(dir + "/" + name)) continue;  // published by an earlier run at the same ms
    Result<std::unique_ptr<WritableFile>> f = fs_.NewFile(open_path);
    if (!f) {
      if (attempt < 100 && fs_.Exists(open_path)) continue;
      known_dirs_.erase(dir);  // retention may have removed an emptied partition: recreate it next time
      return f.error();
    }
    if (config_.fsync == FsyncPolicy::kAlways) VIGIL_RETURN_IF_ERROR(fs_.SyncDir(dir));
    segments_.push_front(Segment{std::move(key), dir, std::move(name), std::move(*f), now, 0, false});
    open_[segments_.front().key] = segments_.begin();
    stats_.open_segments = segments_.size();
    return segments_.begin();
  }
}

Status LakeWriter::Publish(SegmentList::iterator it, bool synced) {
  Segment& s = *it;
  Status status;
  if (config_.fsync != FsyncPolicy::kNever && s.dirty && !synced) {
    status = s.file->Sync();
    stats_.syncs++;
  }
  if (status.ok()) status = s.file->Close();
  if (status.ok()) status = fs_.Rename(s.dir + "/" + OpenFileName(s.final_name), s.dir + "/" + s.final_name);
  if (status.ok() && config_.fsync != FsyncPolicy::kNever) status = fs_.SyncDir(s.dir);
  // Whatever happened, this segment is done: a file left ".open" is repaired at next start.
  open_.erase(s.key);
  segments_.erase(it);
  stats_.open_segments = segments_.size();
  if (status.ok()) stats_.segments_published++;
  return status;
}

Status LakeWriter::PublishAll() {
  Status first;
  while (!segments_.empty()) {
    Status s = Publish(std::prev(segments_.end()), false);
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

Status LakeWriter::Tick() {
  bool sync_now = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = clock_.NowMs();
    for (auto it = segments_.begin(); it != segments_.end();) {
      auto next = std::next(it);
      if (now - it->opened_ms >= config_.segment_max_age_ms) {
        VIGIL_RETURN_IF_ERROR(Publish(it, false));
      }
      it = next;
    }
    if (config_.fsync == FsyncPolicy::kInterval && unsynced_ &&
        now - last_sync_ms_ >= config_.fsync_interval_ms) {
      // Everything written up to here is covered by the syncfs below.
      for (Segment& s : segments_) s.dirty = false;
      unsynced_ = false;
      last_sync_ms_ = now;
      stats_.syncs++;
      sync_now = true;
    }
  }
  if (sync_now) return fs_.SyncFilesystem(lake_dir_);
  return Status::Ok();
}

Status LakeWriter::SyncAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (Segment& s : segments_) {
    if (!s.dirty) continue;
    VIGIL_RETURN_IF_ERROR(s.file->Sync());
    s.dirty = false;
    stats_.syncs++;
  }
  return Status::Ok();
}

Status LakeWriter::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  return PublishAll();
}

LakeStats LakeWriter::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace vigil::lake
