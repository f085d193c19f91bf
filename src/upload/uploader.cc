#include "upload/uploader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "common/logging.h"
#include "common/timestamp.h"
#include "lake/paths.h"

namespace vigil::upload {
namespace {

namespace fs = std::filesystem;

// Published raw segments under dir (not hidden, *.jsonl), relative to `base`.
template <typename F>
void ForEachSegment(const std::string& dir, const std::string& base, F&& f) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code fec;
    if (!it->is_regular_file(fec)) continue;
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || !name.ends_with(".jsonl")) continue;
    const uint64_t size = it->file_size(fec);
    if (fec) continue;  // gone meanwhile
    f(it->path().string().substr(base.size() + 1), name, size);
  }
}

Status ReadWhole(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot open " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IoError("cannot read " + path);
  *out = std::move(ss).str();
  return Status::Ok();
}

}  // namespace

std::string UploadDir(const std::string& data_dir) { return data_dir + "/upload"; }
std::string LedgerPath(const std::string& data_dir) { return UploadDir(data_dir) + "/ledger.tsv"; }

std::string ObjectKey(const UploadConfig& c, const std::string& relative_path) {
  // "raw/<rest>" -> "<prefix>/raw/gateway=<id>/<rest>"
  std::string rest = relative_path.starts_with("raw/") ? relative_path.substr(4) : relative_path;
  std::string key = c.prefix.empty() ? "" : c.prefix + "/";
  return key + "raw/gateway=" + c.gateway_id + "/" + rest;
}

void MeasureQueue(const std::string& data_dir, uint64_t* files, uint64_t* bytes) {
  *files = *bytes = 0;
  const std::string queue = lake::UploadQueueDir(lake::LakeDir(data_dir));
  ForEachSegment(queue, queue, [&](const std::string&, const std::string&, uint64_t size) {
    ++*files;
    *bytes += size;
  });
}

uint64_t CountLedger(const std::string& data_dir) {
  std::ifstream in(LedgerPath(data_dir));
  std::string line;
  uint64_t n = 0;
  while (std::getline(in, line)) {
    if (!in.eof() && !line.empty()) ++n;  // a torn last record (no newline) is not one
  }
  return n;
}

Uploader::Uploader(const Config& config, Clock& clock)
    : config_(config),
      clock_(clock),
      lake_dir_(lake::LakeDir(config.data_dir)),
      queue_dir_(lake::UploadQueueDir(lake_dir_)) {}

Uploader::~Uploader() {
  Stop();
  if (ledger_fd_ >= 0) ::close(ledger_fd_);
}

Status Uploader::Open(const std::string& who) {
  auto log = GetLogger("upload");
  std::error_code ec;
  fs::create_directories(UploadDir(config_.data_dir), ec);
  if (ec) return Status::IoError("cannot create " + UploadDir(config_.data_dir) + ": " + ec.message());
  Result<DirLock> lock = DirLock::Acquire(UploadDir(config_.data_dir) + "/upload.lock", who);
  if (!lock) return lock.error();
  lock_ = std::make_unique<DirLock>(std::move(*lock));
  // From here on the lake writers link every raw segment they publish into the queue.
  fs::create_directories(queue_dir_, ec);
  if (ec) return Status::IoError("cannot create " + queue_dir_ + ": " + ec.message());

  // The ledger: one record a line; a torn last record (crash mid-append) is cut off.
  const std::string path = LedgerPath(config_.data_dir);
  {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    uint64_t good_bytes = 0;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // no newline: torn
      good_bytes += line.size() + 1;
      const size_t tab = line.find('\t');
      if (tab != std::string::npos) ledger_.insert(line.substr(0, tab));
    }
    if (fs::exists(path, ec) && fs::file_size(path, ec) != good_bytes) {
      log->warn("ledger {}: cutting a torn last record", path);
      if (::truncate(path.c_str(), static_cast<off_t>(good_bytes)) != 0) {
        return Status::IoError("truncate " + path + ": " + std::strerror(errno));
      }
    }
  }
  ledger_fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (ledger_fd_ < 0) return Status::IoError("cannot open " + path + ": " + std::strerror(errno));

  // Published raw segments that are neither uploaded nor queued: queue them.
  uint64_t caught_up = 0;
  ForEachSegment(lake::RawDir(lake_dir_), lake_dir_, [&](const std::string& rel, const std::string&, uint64_t) {
    if (ledger_.count(ObjectKey(config_.upload, rel))) return;
    const std::string link = queue_dir_ + "/" + rel;
    std::error_code lec;
    if (fs::exists(link, lec)) return;
    fs::create_directories(fs::path(link).parent_path(), lec);
    if (::link((lake_dir_ + "/" + rel).c_str(), link.c_str()) == 0) ++caught_up;
  });
  if (caught_up) log->info("queued {} published raw segment(s) not uploaded yet", caught_up);
  client_ = std::make_unique<S3Client>(config_.upload);
  std::lock_guard<std::mutex> lk(mu_);
  stats_.ledger_objects = ledger_.size();
  return Status::Ok();
}

std::vector<Uploader::Queued> Uploader::ListQueue(uint64_t* total_bytes) const {
  std::vector<Queued> q;
  *total_bytes = 0;
  ForEachSegment(queue_dir_, queue_dir_, [&](const std::string& rel, const std::string& name, uint64_t size) {
    int64_t opened = 0;
    (void)lake::SegmentOpenedMs(name, &opened);
    q.push_back({opened, rel, size});
    *total_bytes += size;
  });
  std::sort(q.begin(), q.end());
  return q;
}

Status Uploader::AppendLedger(const std::string& key, uint64_t size, const std::string& sha, const std::string& etag) {
  const std::string rec = key + "\t" + std::to_string(size) + "\t" + sha + "\t" + etag + "\t" +
                          FormatTimestampMs(clock_.NowMs()) + "\n";
  size_t at = 0;
  while (at < rec.size()) {
    const ssize_t n = ::write(ledger_fd_, rec.data() + at, rec.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError("write " + LedgerPath(config_.data_dir) + ": " + std::strerror(errno));
    at += static_cast<size_t>(n);
  }
  if (::fdatasync(ledger_fd_) != 0) return Status::IoError("fdatasync " + LedgerPath(config_.data_dir) + ": " + std::strerror(errno));
  ledger_.insert(key);
  return Status::Ok();
}

Result<PassSummary> Uploader::RunOnce(const std::atomic<bool>* abort,
                                      const std::function<void(uint64_t, uint64_t)>& progress) {
  if (!client_) return Status::Internal("Uploader::RunOnce before Open");
  PassSummary sum;
  uint64_t total = 0, done = 0;
  std::vector<Queued> queue = ListQueue(&total);
  Status failed;
  std::string content;
  size_t i = 0;
  for (; i < queue.size(); ++i) {
    if (abort && *abort) break;
    const Queued& q = queue[i];
    const std::string path = queue_dir_ + "/" + q.relative;
    const std::string key = ObjectKey(config_.upload, q.relative);
    if (!ledger_.count(key)) {
      if (Status s = ReadWhole(path, &content); !s.ok()) {
        failed = s;
        break;
      }
      const std::string sha = Sha256Hex(content);
      Result<PutResult> put = client_->Put(key, content, sha, abort);
      if (!put) {
        failed = put.error();
        std::lock_guard<std::mutex> lk(mu_);
        stats_.failures++;
        stats_.last_error = failed.message();
        break;
      }
      if (Status s = AppendLedger(key, content.size(), sha, put->etag); !s.ok()) {
        failed = s;
        break;
      }
      sum.uploaded++;
      sum.bytes += content.size();
      std::lock_guard<std::mutex> lk(mu_);
      stats_.objects++;
      stats_.bytes += content.size();
      stats_.ledger_objects = ledger_.size();
      stats_.last_success_ms = clock_.NowMs();
      stats_.last_error.clear();
    } else {
      sum.skipped++;
    }
    std::error_code ec;
    fs::remove(path, ec);  // in the ledger: the link has done its work
    done += q.bytes;
    if (progress) progress(done, total);
  }
  uint64_t remaining_bytes = 0;
  for (size_t j = i; j < queue.size(); ++j) remaining_bytes += queue[j].bytes;
  sum.remaining = queue.size() - i;
  {
    std::lock_guard<std::mutex> lk(mu_);
    stats_.backlog_files = sum.remaining;
    stats_.backlog_bytes = remaining_bytes;
  }
  // Emptied queue partitions of dates before yesterday go (a writer may be linking into
  // today's and yesterday's).
  const std::string keep_from = FormatDate(clock_.NowMs() - 86'400'000);
  std::error_code ec;
  for (auto& date_dir : fs::directory_iterator(queue_dir_ + "/raw", ec)) {
    const std::string name = date_dir.path().filename().string();
    if (!name.starts_with("date=") || name.substr(5) >= keep_from) continue;
    for (auto& m : fs::directory_iterator(date_dir.path(), ec)) {
      std::error_code rec;
      if (fs::is_empty(m.path(), rec)) fs::remove(m.path(), rec);
    }
    std::error_code rec;
    if (fs::is_empty(date_dir.path(), rec)) fs::remove(date_dir.path(), rec);
  }
  if (!failed.ok()) return failed;
  return sum;
}

void Uploader::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Uploader::Stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  abort_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

UploadStats Uploader::Stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  return stats_;
}

void Uploader::Loop() {
  auto log = GetLogger("upload");
  int64_t backoff_ms = 1000;
  std::string last_logged;
  while (true) {
    int64_t wait_ms = config_.upload.interval_ms;
    Result<PassSummary> r = Status::Internal("not run");
    try {
      r = RunOnce(&abort_);
    } catch (const std::exception& e) {
      r = Status::Internal(e.what());
    }
    if (r) {
      if (r->uploaded) log->info("uploaded {} segment(s), {} bytes; {} queued", r->uploaded, r->bytes, r->remaining);
      if (!last_logged.empty()) log->info("upload works again");
      last_logged.clear();
      backoff_ms = 1000;
      if (r->remaining > 0) wait_ms = 0;  // aborted or more arrived: go on
    } else {
      // Logged when the reason changes, not on every retry of a long outage (digits apart:
      // curl's "after 8 ms" must not count as a new reason).
      std::string reason = r.error().message();
      std::erase_if(reason, [](char ch) { return ch >= '0' && ch <= '9'; });
      if (reason != last_logged) {
        log->error("upload failed, retrying (ingest goes on; segments stay queued in {}): {}", queue_dir_,
                   r.error().message());
        last_logged = reason;
      }
      wait_ms = backoff_ms;
      backoff_ms = std::min(backoff_ms * 2, config_.upload.retry_max_ms);
    }
    std::unique_lock<std::mutex> lk(mu_);
    if (stop_) break;
    if (wait_ms > 0) cv_.wait_for(lk, std::chrono::milliseconds(wait_ms), [&] { return stop_; });
    if (stop_) break;
  }
}

}  // namespace vigil::upload
