#include "sim/runner.h"

#include <algorithm>

namespace vigil::sim {
namespace {
constexpr int64_t kMaxSleepMs = 100;  // the stop flag is checked at least this often
}  // namespace

Runner::Runner(Fleet& fleet, Publisher& publisher, Clock& clock, const std::atomic<bool>& stop,
               RunnerOptions options)
    : fleet_(fleet), publisher_(publisher), clock_(clock), stop_(stop), options_(std::move(options)) {
  stats_.failures_by_machine.assign(fleet_.machines().size(), 0);
  last_save_ms_ = last_progress_ms_ = rate_start_ms_ = clock_.NowMs();
}

void Runner::Pace() {
  if (options_.max_rate <= 0) return;
  // Token bucket without burst: the n-th message is due n / rate after the start.
  while (!stop_) {
    const int64_t now = clock_.NowMs();
    const int64_t due = rate_start_ms_ + static_cast<int64_t>(
        static_cast<double>(stats_.sent - rate_start_sent_) * 1000.0 / options_.max_rate);
    if (due <= now) return;
    clock_.SleepMs(std::min(due - now, kMaxSleepMs));
  }
}

Status Runner::PublishTick() {
  batch_.clear();
  fleet_.Step(&batch_);
  for (const OutMessage& m : batch_) {
    Pace();
    VIGIL_RETURN_IF_ERROR(publisher_.Publish(m));
    ++stats_.sent;
    switch (m.cls) {
      case MessageClass::kReading: ++stats_.readings; break;
      case MessageClass::kFailure:
        ++stats_.failure_events;
        ++stats_.failures_by_machine[m.machine];
        break;
      case MessageClass::kBad: ++stats_.bad; break;
    }
  }
  return Status::Ok();
}

Status Runner::Checkpoint() {
  VIGIL_RETURN_IF_ERROR(publisher_.Flush());
  last_save_ms_ = clock_.NowMs();
  return options_.save ? options_.save() : Status::Ok();
}

Status Runner::MaybeCheckpoint() {
  if (clock_.NowMs() - last_save_ms_ < options_.save_every_ms) return Status::Ok();
  return Checkpoint();
}

void Runner::ReportProgress(bool force) {
  if (!options_.progress) return;
  const int64_t now = clock_.NowMs();
  if (!force && now - last_progress_ms_ < options_.progress_every_ms) return;
  last_progress_ms_ = now;
  options_.progress(Progress{fleet_.next_tick_ms(), from_ms_, until_ms_, stats_.sent});
}

Status Runner::Backfill(int64_t until_ms) {
  from_ms_ = fleet_.next_tick_ms();
  until_ms_ = until_ms;
  rate_start_ms_ = clock_.NowMs();
  rate_start_sent_ = stats_.sent;
  while (fleet_.next_tick_ms() < until_ms && !stop_) {
    VIGIL_RETURN_IF_ERROR(PublishTick());
    VIGIL_RETURN_IF_ERROR(MaybeCheckpoint());
    ReportProgress(false);
  }
  ReportProgress(true);
  from_ms_ = until_ms_ = 0;
  return Status::Ok();
}

Status Runner::RealTime(double speed) {
  if (!(speed > 0)) return Status::InvalidArgument("speed must be positive");
  const int64_t wall_anchor = clock_.NowMs();
  const int64_t tick_anchor = speed == 1.0 ? wall_anchor : fleet_.next_tick_ms();
  rate_start_ms_ = wall_anchor;
  rate_start_sent_ = stats_.sent;
  while (!stop_) {
    const int64_t due =
        wall_anchor + static_cast<int64_t>(static_cast<double>(fleet_.next_tick_ms() - tick_anchor) / speed);
    const int64_t now = clock_.NowMs();
    if (due > now) {
      VIGIL_RETURN_IF_ERROR(MaybeCheckpoint());
      clock_.SleepMs(std::min(due - now, kMaxSleepMs));
      continue;
    }
    VIGIL_RETURN_IF_ERROR(PublishTick());
    VIGIL_RETURN_IF_ERROR(MaybeCheckpoint());
    ReportProgress(false);
  }
  return Status::Ok();
}

}  // namespace vigil::sim
