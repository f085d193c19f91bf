#include "daemon/main_loop.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "common/logging.h"
#include "common/monotonic.h"

namespace vigil::daemon {
namespace {

constexpr int64_t kTickMs = 100;

std::string ReasonSummary(const ingest::IngestCounts& c) {
  std::string out;
  for (int i = 0; i < kReasonCount; ++i) {
    if (c.by_reason[i] == 0) continue;
    out += (out.empty() ? "" : " ") + std::string(ReasonCode(static_cast<Reason>(i))) + "=" +
           std::to_string(c.by_reason[i]);
  }
  return out.empty() ? "none" : out;
}

}  // namespace

MainLoop::MainLoop(const Config& config, lake::LakeWriter& writer, ingest::IngestSink& sink,
                   ingest::MqttSubscriber& subscriber, lake::DiskGuard& disk, Scheduler& scheduler)
    : config_(config),
      writer_(writer),
      sink_(sink),
      subscriber_(subscriber),
      disk_(disk),
      scheduler_(scheduler),
      last_stats_ms_(MonotonicMs()),
      last_(sink.Counts()) {}

void MainLoop::LogStats(bool final) {
  const int64_t now = MonotonicMs();
  ingest::IngestCounts c = sink_.Counts();
  lake::LakeStats ls = writer_.Stats();
  double secs = std::max<double>(1e-3, (now - last_stats_ms_) / 1000.0);
  GetLogger("cli")->info("{}received={} accepted={} quarantined={} ({}) rate={:.0f}/s lake: bytes={} "
                         "segments_published={} open={} write_errors={} broker={}",
                         final ? "final: " : "", c.received, c.accepted, c.quarantined, ReasonSummary(c),
                         (c.received - last_.received) / secs, ls.bytes, ls.segments_published, ls.open_segments,
                         c.write_errors, subscriber_.is_connected() ? "connected" : "disconnected");
  last_ = c;
  last_stats_ms_ = now;
}

int MainLoop::Run(const sigset_t& signals) {
  // systemd (Type=notify): ready once the lake is recovered and the broker connection is
  // under way; the watchdog is fed from this loop, so a stuck main loop gets restarted.
  systemd_.Ready("starting: connecting to the broker");
  const timespec tick{0, kTickMs * 1'000'000};
  while (true) {
    siginfo_t info;
    const int sig = sigtimedwait(&signals, &info, &tick);
    if (sig == SIGINT || sig == SIGTERM) return sig;
    Tick();
  }
}

void MainLoop::Tick() {
  if (Status s = writer_.Tick(); !s.ok() && (lake_errors_++ % 100) == 0) {
    GetLogger("cli")->error("lake: {}", s.message());
  }
  subscriber_.Tick();
  const bool was_low = disk_.low();
  disk_.Refresh();
  // Retention may free space (archive, quarantine): run it now, not in up to 10 min.
  if (disk_.low() && !was_low) scheduler_.HousekeepSoon();
  const int64_t now = MonotonicMs();
  if (now - last_stats_ms_ >= config_.ingest.stats_interval_ms) LogStats(false);
  systemd_.WatchdogTick(now);
  if (systemd_.enabled() && now - last_status_ms_ >= 5000) {
    ingest::IngestCounts c = sink_.Counts();
    double rate = last_status_ms_ ? (c.received - last_status_received_) * 1000.0 / (now - last_status_ms_) : 0;
    char status[160];
    std::snprintf(status, sizeof status, "%.0f msg/s; %llu accepted, %llu quarantined; broker %s%s", rate,
                  static_cast<unsigned long long>(c.accepted), static_cast<unsigned long long>(c.quarantined),
                  subscriber_.is_connected() ? "connected" : "disconnected",
                  disk_.low() ? "; DISK LOW: not taking messages" : "");
    systemd_.Status(status);
    last_status_ms_ = now;
    last_status_received_ = c.received;
  }
}

}  // namespace vigil::daemon
