// Folder src/sim/: the simulated fleet, its state file and runner. Calls common and mqtt;
// only src/cli/ includes it.
//
// Runner: drives a Fleet through time and hands its messages to a Publisher.
//
// Two modes, written as loops over Fleet::Step so that tests drive them with a FakeClock
// and an in-memory publisher (no network, no sleeps):
// - Backfill(until): every tick before `until`, as fast as the publisher accepts them
//   (bounded by max_rate messages/s when set).
// - RealTime(speed): each tick when it is due: wall = wall_anchor + (tick - tick_anchor) /
//   speed, anchored at the call. With speed 1 the anchors coincide (due = tick), so ticks
//   already past (after a backfill) are caught up at once.
// A tick's messages are always published together; the stop flag is checked between
// ticks (and inside a blocked Publish). Every save_every_ms of wall time the publisher is
// flushed (all acknowledged) and the state hook is called, so a crash replays at most
// that much, and never skips anything.
//
// Threads: everything on the caller's thread; `stop` may be set from another one.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/fleet.h"
#include "vigil/clock.h"
#include "vigil/status.h"

namespace vigil::sim {

// Where messages go. MqttPublisher is the real one.
class Publisher {
 public:
  virtual ~Publisher() = default;
  // Queues one message; may block while too many are unacknowledged. An error means the
  // message was not queued (stop requested while blocked, or a fatal broker error).
  virtual Status Publish(const OutMessage& m) = 0;
  // Waits until every queued message is acknowledged.
  virtual Status Flush() = 0;
};

struct RunStats {
  uint64_t sent = 0;            // messages handed to the publisher
  uint64_t readings = 0;
  uint64_t failure_events = 0;
  uint64_t bad = 0;
  std::vector<uint64_t> failures_by_machine;  // this run only, index as Fleet::machines()
};

struct Progress {
  int64_t sim_ms = 0;     // the next tick
  int64_t from_ms = 0;    // backfill: the period; RealTime: from_ms == until_ms == 0
  int64_t until_ms = 0;
  uint64_t sent = 0;
};

struct RunnerOptions {
  double max_rate = 0;               // messages per second, 0 = unlimited
  int64_t save_every_ms = 10'000;    // wall time between state saves
  int64_t progress_every_ms = 250;   // wall time between progress calls
  std::function<Status()> save;                        // persists the fleet's state
  std::function<void(const Progress&)> progress;       // optional
};

class Runner {
 public:
  Runner(Fleet& fleet, Publisher& publisher, Clock& clock, const std::atomic<bool>& stop,
         RunnerOptions options);

  // Ok when every tick before until_ms was published or a stop was requested between
  // ticks; an error from the publisher or the save hook otherwise.
  Status Backfill(int64_t until_ms);
  // Runs until stop is set. speed > 0.
  Status RealTime(double speed);
  // Flushes the publisher and saves the state (also done periodically by the loops).
  Status Checkpoint();

  const RunStats& stats() const { return stats_; }

 private:
  Status PublishTick();
  Status MaybeCheckpoint();
  void ReportProgress(bool force);
  void Pace();  // max_rate

  Fleet& fleet_;
  Publisher& publisher_;
  Clock& clock_;
  const std::atomic<bool>& stop_;
  RunnerOptions options_;
  RunStats stats_;
  std::vector<OutMessage> batch_;
  int64_t last_save_ms_ = 0;
  int64_t last_progress_ms_ = 0;
  int64_t rate_start_ms_ = 0;
  uint64_t rate_start_sent_ = 0;
  int64_t from_ms_ = 0, until_ms_ = 0;
};

}  // namespace vigil::sim
