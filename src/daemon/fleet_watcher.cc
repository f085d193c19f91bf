#include "daemon/fleet_watcher.h"

#include <algorithm>
#include <chrono>

#include "common/logging.h"

namespace vigil::daemon {

FleetWatcher::FleetWatcher(Clock& clock, PullFn pull, FindFn find, int64_t retry_max_ms)
    : clock_(clock), pull_(std::move(pull)), find_(std::move(find)), retry_max_ms_(std::max<int64_t>(retry_max_ms, 1000)) {}

FleetWatcher::~FleetWatcher() { Stop(); }

void FleetWatcher::Offer(std::string payload) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    ++stats_.announcements;
    pending_ = std::move(payload);
  }
  cv_.notify_all();
}

FleetStats FleetWatcher::Stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  return stats_;
}

int64_t FleetWatcher::RunOnce(int64_t now_ms) {
  auto log = GetLogger("fleet");
  std::optional<std::string> payload;
  {
    std::lock_guard<std::mutex> lk(mu_);
    payload.swap(pending_);
  }
  if (payload) {
    Result<model::FleetAnnouncement> a = model::ParseFleetAnnouncement(*payload);
    if (!a) {
      log->error("ignoring a malformed fleet model announcement: {} (payload: {:.200})", a.error().message(), *payload);
      std::lock_guard<std::mutex> lk(mu_);
      ++stats_.malformed;
      stats_.last_error = "malformed announcement: " + a.error().message();
    } else if (a->id == done_id_ || (current_ && current_->id == a->id && current_->sha256 == a->sha256)) {
      // A retained announcement comes again on every reconnect: nothing new.
      std::lock_guard<std::mutex> lk(mu_);
      ++stats_.already;
    } else {
      current_ = std::move(*a);  // a newer announcement replaces one being retried
      due_ms_ = now_ms;
      backoff_ms_ = 1000;
      std::lock_guard<std::mutex> lk(mu_);
      stats_.last_id = current_->id;
    }
  }
  if (current_ && now_ms >= due_ms_) Handle(*current_, now_ms);
  return current_ ? due_ms_ : 0;
}

void FleetWatcher::Handle(const model::FleetAnnouncement& a, int64_t now_ms) {
  auto log = GetLogger("fleet");
  auto finish = [&](const char* state) {
    done_id_ = a.id;
    current_.reset();
    last_logged_.clear();
    stats_.state = state;
  };
  Result<int64_t> known = find_(a.id);
  if (known && *known > 0) {
    log->info("fleet model {} is registered already (model {}): nothing to do", a.id, *known);
    std::lock_guard<std::mutex> lk(mu_);
    ++stats_.already;
    finish("done");
    return;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    stats_.state = "pulling";
  }
  log->info("fleet model {} announced: pulling it from the bucket", a.id);
  Result<model::AdoptReport> r = known ? pull_(a) : Result<model::AdoptReport>(known.error());
  std::lock_guard<std::mutex> lk(mu_);
  if (r) {
    ++stats_.registered;
    ++(r->promoted ? stats_.promoted : stats_.rejected);
    stats_.last_success_ms = now_ms;
    stats_.last_error.clear();
    log->info("fleet model {} registered as model {}; {}", a.id, r->model_id, r->decision);
    finish("done");
    return;
  }
  ++stats_.failures;
  stats_.last_error = "fleet model " + a.id + ": " + r.error().message();
  if (r.error().code() == StatusCode::kUnavailable) {
    // Logged once per new reason, like the upload: an outage must not flood the log.
    if (r.error().message() != last_logged_) {
      log->warn("cannot pull fleet model {} ({}); retrying, waits doubling up to {} s", a.id, r.error().message(),
                retry_max_ms_ / 1000);
      last_logged_ = r.error().message();
    }
    stats_.state = "retrying";
    due_ms_ = now_ms + backoff_ms_;
    backoff_ms_ = std::min(backoff_ms_ * 2, retry_max_ms_);
    return;
  }
  log->error("fleet model {} not taken: {} (not retried; fix it and run `vigil models pull --id {}`)", a.id,
             r.error().message(), a.id);
  finish("failed");
}

void FleetWatcher::Start() { thread_ = std::thread([this] { Loop(); }); }

void FleetWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FleetWatcher::Loop() {
  auto log = GetLogger("fleet");
  for (;;) {
    int64_t due = 0;
    try {
      due = RunOnce(clock_.NowMs());
    } catch (const std::exception& e) {
      // Nothing escapes a thread body: the announcement is dropped, ingest goes on.
      log->error("fleet model announcement: unexpected error: {}", e.what());
      current_.reset();
    }
    std::unique_lock<std::mutex> lk(mu_);
    if (stop_) return;
    auto wake = [&] { return stop_ || pending_.has_value(); };
    if (due == 0) {
      cv_.wait(lk, wake);
    } else if (const int64_t wait_ms = due - clock_.NowMs(); wait_ms > 0) {
      cv_.wait_for(lk, std::chrono::milliseconds(wait_ms), wake);
    }
    if (stop_) return;
  }
}

}  // namespace vigil::daemon
