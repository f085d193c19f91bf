#include "daemon/scheduler.h"

#include <algorithm>

#include "common/dir_lock.h"
#include "common/data_paths.h"
#include "common/logging.h"
#include "lake/paths.h"
#include "lake/line_format.h"
#include "model/alerts.h"
#include "model/registry.h"
#include "model/scorer.h"
#include "model/trainer.h"
#include "process/batch.h"

namespace vigil::daemon {

Scheduler::Scheduler(const Config& config, Clock& clock, lake::FileSystem& fs)
    : config_(config), clock_(clock), fs_(fs), outbox_(config, clock) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start() {
  outbox_.Start();
  thread_ = std::thread([this] { Loop(); });
}

void Scheduler::Stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  abort_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::HousekeepSoon() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    housekeep_soon_ = true;
  }
  cv_.notify_all();
}

SchedulerStats Scheduler::Stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  SchedulerStats s = stats_;
  s.outbox = outbox_.Stats();
  return s;
}

int64_t Scheduler::NewestModelMs() {
  if (Result<model::Db> db = model::Db::Open(data_paths::Database(config_.data_dir)); db) {
    if (Result<std::vector<model::ModelRecord>> all = model::ListModels(*db); all && !all->empty()) {
      return all->back().created_ms;
    }
  }
  return 0;
}

int64_t Scheduler::RunOnce(int64_t now) {
  if (!scheduled_) {
    scheduled_ = true;
    if (config_.model.retrain_interval_ms > 0) {
      // The interval counts from the newest model, not from this start: a restart loop must
      // not retrain every time.
      if (const int64_t newest = NewestModelMs(); newest) {
        std::lock_guard<std::mutex> lk(mu_);
        stats_.last_retrain_ms = newest;
      }
    }
    next_process_ms_ = now + config_.processing.interval_ms;
    next_housekeep_ms_ = now;  // measure at once: /metrics has lake sizes from the start
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (housekeep_soon_) next_housekeep_ms_ = now;
    housekeep_soon_ = false;
  }
  if (now >= next_process_ms_) {
    Process();
    if (config_.model.retrain_interval_ms > 0 && now - stats_.last_retrain_ms >= config_.model.retrain_interval_ms) {
      Retrain();
    }
    ScoreAndPublish();
    next_process_ms_ = clock_.NowMs() + config_.processing.interval_ms;
  }
  if (now >= next_housekeep_ms_) {
    Housekeep();
    next_housekeep_ms_ = clock_.NowMs() + config_.retention.interval_ms;
  }
  return std::min(next_process_ms_, next_housekeep_ms_);
}

void Scheduler::Loop() {
  std::unique_lock<std::mutex> lk(mu_);
  while (!stop_) {
    lk.unlock();
    const int64_t due = RunOnce(clock_.NowMs());
    lk.lock();
    const int64_t wait_ms = due - clock_.NowMs();
    if (wait_ms > 0) cv_.wait_for(lk, std::chrono::milliseconds(wait_ms), [&] { return stop_ || housekeep_soon_; });
  }
}

void Scheduler::Process() {
  auto log = GetLogger("process");
  const int64_t start = clock_.NowMs();
  Result<process::RunSummary> r = Status::Internal("not run");
  try {
    process::Processor p(config_, clock_, fs_);
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

void Scheduler::ScoreAndPublish() {
  auto log = GetLogger("model");
  Result<model::ScoreSummary> r = model::ScoreNew(config_);
  if (!r) {
    // No feature store yet is the normal state of a fresh installation.
    if (r.error().code() != StatusCode::kNotFound) log->error("scoring failed: {}", r.error().message());
    return;
  }
  if (!r->warning.empty()) log->warn("{}", r->warning);
  for (const model::Alert& a : r->alerts) {
    log->warn("ALERT {} {} {}: {}", a.machine_id, a.kind, a.level, a.message);
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    stats_.model_id = r->model_id;
    stats_.rows_scored += static_cast<uint64_t>(r->rows_scored);
    stats_.alerts_raised += r->alerts.size();
  }
  const std::string& prefix = config_.mqtt.topic_prefix;
  std::vector<publish::Message> out;
  for (const model::LatestPrediction& p : r->latest) {
    out.push_back({lake::OutputTopic(prefix, p.machine_id, lake::kPredictionLevel), model::PredictionJson(p, config_.processing.label_horizon_ms)});
    out.back().retained = true;
  }
  outbox_.PushPredictions(std::move(out));
  if (!r->alerts.empty()) outbox_.AlertsWritten();  // they are in vigil.db: the outbox sends them
}

void Scheduler::Retrain() {
  auto log = GetLogger("model");
  {
    std::lock_guard<std::mutex> lk(mu_);
    stats_.last_retrain_ms = clock_.NowMs();
    stats_.retrains++;
  }
  Result<model::TrainReport> r = model::Train(config_, clock_, {});
  if (!r) {
    log->warn("scheduled retraining skipped: {}", r.error().message());
    return;
  }
  const std::string iso = r->iso_evaluated ? fmt::format("ISO rule {:.3f}, ", r->iso_rule.pr_auc) : std::string();
  const std::string rul = r->rul ? fmt::format("; remaining useful life model (RMSE {:.2f} h)", r->rul_rmse_h) : std::string();
  log->info("scheduled retraining: model {} split by {}, PR AUC {:.3f} ({}base rate {:.3f}), threshold "
            "{:.3f}: {}{}", r->model_id, model::SplitName(r->split), r->model.pr_auc, iso,
            r->base_rate.pr_auc, r->eval_threshold, r->decision, rul);
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
  // `vigil reprocess` (allowed beside vigil run) reads the archive under the processors'
  // lock: trimming takes it too, or only measures this round.
  Result<DirLock> lock = DirLock::Acquire(process::ProcessLockPath(config_.data_dir), "vigil run's retention");
  if (!lock) log->info("retention: not trimming this round, {}", lock.error().message());
  for (const Area& a : areas) {
    Result<lake::TrimReport> r = lake::TrimArea(a.dir, lock ? a.limits : lake::RetentionLimits{}, now);
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

}  // namespace vigil::daemon
