// FleetWatcher: `vigil run`'s reaction to a fleet model announcement (issue 17). The MQTT
// subscriber hands each message of fleet.model_topic to Offer() on Paho's thread; Offer
// only stores the payload (the newest wins) and wakes this watcher's own thread, so ingest
// never waits for S3 or for the model rule. The thread parses the announcement
// (model::ParseFleetAnnouncement) and runs the pull: the same path as
// `vigil models pull --id` (fetch from the bucket, check sha256, columns and fingerprint,
// register, promote by the gateway's own rule), injected as `pull` (run_command.cc wires
// cli::PullFleetModel; tests a fake).
//
// Outcomes, each one log line and a counter in Stats() (/metrics, /api/status):
//   - malformed payload: logged with the reason, nothing pulled;
//   - an id registered before (`find` > 0, also one pulled by hand), or the id this
//     process already handled: a no-op (retained messages are redelivered on every
//     reconnect);
//   - kUnavailable (network, S3 5xx, a training holding the train lock): retried, the wait
//     doubling from 1 s to retry_max_ms, until done or replaced by a newer announcement;
//   - any other error (a check that fails, no such model): logged, not retried for this id
//     in this process (`vigil models pull --id` by hand, or a new announcement).
//
// Threads: Offer and Stats from any thread; RunOnce from one thread at a time (the
// watcher's own after Start(), or a test's). Nothing escapes the thread body.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "model/fleet_model.h"
#include "vigil/clock.h"
#include "vigil/status.h"

namespace vigil::daemon {

struct FleetStats {
  uint64_t announcements = 0;  // messages received on the topic
  uint64_t malformed = 0;      // payloads that are no announcement
  uint64_t registered = 0;     // fleet models registered by this process (promoted or rejected)
  uint64_t promoted = 0, rejected = 0;
  uint64_t already = 0;        // announcements of a model registered before: nothing done
  uint64_t failures = 0;       // failed pulls (network ones are retried)
  int64_t last_success_ms = 0;
  std::string last_id;         // the last announcement's id
  std::string state = "idle";  // idle | pulling | retrying | done | failed
  std::string last_error;      // empty after a success
};

class FleetWatcher {
 public:
  using PullFn = std::function<Result<model::AdoptReport>(const model::FleetAnnouncement&)>;
  using FindFn = std::function<Result<int64_t>(const std::string& fleet_id)>;

  FleetWatcher(Clock& clock, PullFn pull, FindFn find, int64_t retry_max_ms);
  ~FleetWatcher();  // stops

  // Any thread, never blocks on I/O: keeps the payload (a newer one replaces a pending one).
  void Offer(std::string payload);
  // One step at `now_ms`: takes a pending payload, runs a due pull. Returns when the next
  // retry is due (0: nothing scheduled).
  int64_t RunOnce(int64_t now_ms);

  void Start();
  void Stop();  // a pull in flight finishes (S3 timeouts bound it)
  FleetStats Stats() const;

 private:
  void Loop();
  void Handle(const model::FleetAnnouncement& a, int64_t now_ms);

  Clock& clock_;
  PullFn pull_;
  FindFn find_;
  const int64_t retry_max_ms_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::string> pending_;  // guarded by mu_
  bool stop_ = false;                   // guarded by mu_
  FleetStats stats_;                    // guarded by mu_

  // RunOnce's thread only.
  std::optional<model::FleetAnnouncement> current_;  // being pulled or retried
  int64_t due_ms_ = 0, backoff_ms_ = 1000;
  std::string done_id_;  // handled (registered, or failed for good) by this process
  std::string last_logged_;
  std::thread thread_;
};

}  // namespace vigil::daemon
