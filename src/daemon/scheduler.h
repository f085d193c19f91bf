// Folder src/daemon/: the orchestration of `vigil run`: the scheduler (processing, model
// stage, retention, outbox driving) and the main loop. Calls common, ingest, lake,
// process and model; the CLI wires it, HTTP reads its stats.
//
// Scheduler: the background thread of `vigil run`. Every processing.interval it runs the
// pending batches (Processor::RunPending), then the model stage: the current model scores
// the new rows, alerts are raised, and each machine's newest prediction is published
// retained to <prefix>/<id>/prediction and every alert to <prefix>/<id>/alert (with its
// own MQTT client id, <mqtt.client_id>-out); every model.retrain_interval it retrains.
// Every retention.interval (or soon after HousekeepSoon(): the disk went low) it measures
// the lake areas and trims lake/archive and lake/quarantine (lake/retention.h). Both live
// on one thread so that retention never races the processor's moves into the archive, and
// trimming takes the processors' lock so it never races `vigil reprocess` either.
// Stats() is what /metrics and /api/status show.
//
// The schedule is RunOnce(now): it runs what is due at `now` (the injected Clock's time)
// and says when the next step is due; the thread only sleeps until then (or until Stop()
// or HousekeepSoon()). Tests call RunOnce with a FakeClock and override the steps.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "lake/file_system.h"
#include "lake/retention.h"
#include "model/outbox.h"
#include "vigil/clock.h"
#include "vigil/config.h"

namespace vigil::daemon {

struct SchedulerStats {
  uint64_t runs = 0, failed_runs = 0;  // a run = all pending batches
  uint64_t batches = 0, segments = 0, readings = 0, rows = 0, bad_lines = 0;
  double last_run_seconds = 0, run_seconds_sum = 0;
  int64_t last_success_ms = 0;  // 0: no successful run yet
  std::string last_error;
  lake::AreaUsage raw, archive, quarantine;
  int64_t areas_measured_ms = 0;
  uint64_t retention_removed_files = 0, retention_removed_bytes = 0;
  // The model stage after each run (src/model/): scoring, alerts, retraining.
  int64_t model_id = 0;  // the current model (0: none, anomaly scores only)
  uint64_t rows_scored = 0, alerts_raised = 0;
  model::OutboxStats outbox;
  uint64_t retrains = 0;
  int64_t last_retrain_ms = 0;
};

class Scheduler {
 public:
  Scheduler(const Config& config, Clock& clock, lake::FileSystem& fs);
  virtual ~Scheduler();  // stops

  void Start();
  // A running batch stops at its next batch boundary; then the thread is joined.
  void Stop();
  SchedulerStats Stats() const;
  // Runs retention now instead of at the next retention.interval (any thread).
  void HousekeepSoon();

  // One step of the schedule at time now_ms: processing (then retraining when due, then
  // scoring and publishing) every processing.interval from the first call, retention at
  // the first call, every retention.interval and after HousekeepSoon(). Returns when the
  // next step is due. The thread calls it; tests call it without one.
  int64_t RunOnce(int64_t now_ms);

 protected:
  // The steps, virtual so that a test can count them without a lake, vigil.db or broker.
  virtual void Process();
  virtual void Housekeep();
  virtual void ScoreAndPublish();
  virtual void Retrain();
  // created_ms of the newest model (0: none): the retraining interval counts from it.
  virtual int64_t NewestModelMs();

 private:
  void Loop();

  const Config config_;
  Clock& clock_;
  lake::FileSystem& fs_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool housekeep_soon_ = false;
  bool scheduled_ = false;  // RunOnce has set the first due times
  int64_t next_process_ms_ = 0, next_housekeep_ms_ = 0;
  std::atomic<bool> abort_{false};
  SchedulerStats stats_;
  model::Outbox outbox_;  // predictions and alerts, published from its own thread
  std::thread thread_;
};

}  // namespace vigil::daemon
