// MainLoop: the main thread of `vigil run` once everything has started. Every tick (100 ms)
// it ages and syncs the lake's open segments, retries the broker's first connect, measures
// the disk (going low wakes the scheduler's retention at once), logs the counters every
// ingest.stats_interval and feeds systemd's watchdog and status line; until SIGINT or
// SIGTERM. Its intervals run on the monotonic clock: an NTP step back must not pause the
// watchdog pings (systemd would kill a healthy vigil), the status or the stats.
#pragma once

#include <signal.h>

#include <cstdint>

#include "common/systemd_notify.h"
#include "daemon/scheduler.h"
#include "ingest/ingest_sink.h"
#include "ingest/mqtt_subscriber.h"
#include "lake/disk_guard.h"
#include "lake/jsonl_writer.h"
#include "vigil/config.h"

namespace vigil::daemon {

class MainLoop {
 public:
  MainLoop(const Config& config, lake::LakeWriter& writer, ingest::IngestSink& sink,
           ingest::MqttSubscriber& subscriber, lake::DiskGuard& disk, Scheduler& scheduler);

  // Tells systemd it is ready, then ticks until one of `signals` arrives; returns it.
  int Run(const sigset_t& signals);
  void NotifyStopping() { systemd_.Stopping(); }
  // The counters' log line since the last one (final: the one at shutdown).
  void LogStats(bool final);

 private:
  void Tick();

  const Config& config_;
  lake::LakeWriter& writer_;
  ingest::IngestSink& sink_;
  ingest::MqttSubscriber& subscriber_;
  lake::DiskGuard& disk_;
  Scheduler& scheduler_;
  SystemdNotifier systemd_;
  int64_t last_status_ms_ = 0;
  uint64_t last_status_received_ = 0;
  int64_t last_stats_ms_;
  ingest::IngestCounts last_;
  uint64_t lake_errors_ = 0;
};

}  // namespace vigil::daemon
