#include "process/scheduler.h"

#include <algorithm>

#include "common/logging.h"
#include "lake/paths.h"
#include "process/batch.h"

namespace vigil::process {

Scheduler::Scheduler(const Config& config, Clock& clock, lake::FileSystem& fs)
    : config_(config), clock_(clock), fs_(fs) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start() { thread_ = std::thread([this] { Loop(); }); }

void Scheduler::Stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  abort_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

SchedulerStats Scheduler::Stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  return stats_;
}

void Scheduler::Loop() {
  int64_t next_process = clock_.NowMs() + config_.processing.interval_ms;
  int64_t next_housekeep = clock_.NowMs();  // measure at once: /metrics has lake sizes from the start
  std::unique_lock<std::mutex> lk(mu_);
  while (!stop_) {
    const int64_t now = clock_.NowMs();
    const int64_t due = std::min(next_process, next_housekeep);
    if (now < due) {
      cv_.wait_for(lk, std::chrono::milliseconds(due - now), [&] { return stop_; });
      continue;
    }
    lk.unlock();
    if (now >= next_process) {
      Process();
      next_process = clock_.NowMs() + config_.processing.interval_ms;
    }
    if (now >= next_housekeep) {
      Housekeep();
      next_housekeep = clock_.NowMs() + config_.retention.interval_ms;
    }
    lk.lock();
  }
}

void Scheduler::Process() {
  auto log = GetLogger("process");
  const int64_t start = clock_.NowMs();
  Result<RunSummary> r = Status::Internal("not run");
  try {
    Processor p(config_, clock_, fs_);
    r = p.RunPending(&abort_);
  } catch (const std::exception& e) {
    r = Status::Internal(e.what());
  }
  const double secs = (clock_.NowMs() - start) / 1000.0;
  std::lock_guard<std::mutex> lk(mu_);
  stats_.runs++;
  stats_.last_run_seconds = secs;
  stats_.run_seconds_sum += secs;
  if (!r) {
    stats_.failed_runs++;
    stats_.last_error = r.error().message();
    log->error("batch failed: {} (the segments stay in lake/raw and are retried next time)", r.error().message());
    return;
  }
  stats_.last_success_ms = clock_.NowMs();
  stats_.last_error.clear();
  stats_.batches += r->batches;
  stats_.segments += r->totals.segments;
  stats_.readings += r->totals.readings;
  stats_.rows += r->totals.rows;
  stats_.bad_lines += r->totals.bad_lines;
  if (r->batches > 0) {
    log->info("{} batch(es): {} segments, {} new readings, {} duplicates, {} failures, {} bad lines, {} rows in {:.3f} s",
              r->batches, r->totals.segments, r->totals.readings, r->totals.duplicates, r->totals.failures,
              r->totals.bad_lines, r->totals.rows, secs);
  }
}

void Scheduler::Housekeep() {
  auto log = GetLogger("lake");
  const std::string lake_dir = lake::LakeDir(config_.data_dir);
  const int64_t now = clock_.NowMs();
  const RetentionConfig& rc = config_.retention;
  struct Area {
    const char* name;
    std::string dir;
    lake::RetentionLimits limits;
    lake::AreaUsage SchedulerStats::*usage;
  };
  const Area areas[] = {
      {"raw", lake::RawDir(lake_dir), {}, &SchedulerStats::raw},  // never trimmed: not processed yet
      {"archive", lake::ArchiveDir(lake_dir), {rc.archive_max_age_ms, rc.archive_max_bytes}, &SchedulerStats::archive},
      {"quarantine", lake::QuarantineDir(lake_dir), {rc.quarantine_max_age_ms, rc.quarantine_max_bytes},
       &SchedulerStats::quarantine},
  };
  for (const Area& a : areas) {
    Result<lake::TrimReport> r = lake::TrimArea(a.dir, a.limits, now);
    if (!r) {
      log->error("retention of {}: {}", a.name, r.error().message());
      continue;
    }
    if (r->removed_files > 0) {
      log->info("retention: removed {} segment(s), {} bytes from {} (now {} bytes)", r->removed_files,
                r->removed_bytes, a.dir, r->after.bytes);
    }
    std::lock_guard<std::mutex> lk(mu_);
    stats_.*a.usage = r->after;
    stats_.retention_removed_files += r->removed_files;
    stats_.retention_removed_bytes += r->removed_bytes;
  }
  std::lock_guard<std::mutex> lk(mu_);
  stats_.areas_measured_ms = now;
}

}  // namespace vigil::process
