// DiskGuard: stops ingest before the disk is full, rather than at ENOSPC in the middle of
// a line. Refresh() (the main loop, every tick) measures the free space of the data
// directory's filesystem; while it is below min_free_bytes, Check() fails and the MQTT
// callback holds the message unacknowledged, so the broker keeps queueing. Ingest resumes
// once free space is back above min_free_bytes plus a margin (10%, at least 1 MiB), so a
// disk hovering at the threshold does not flap. Transitions are logged once each.
//
// Thread-safety: Refresh() from one thread; Check() and the readers from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "vigil/status.h"

namespace vigil::lake {

// Free bytes available to an unprivileged user on the filesystem holding path.
Result<uint64_t> FreeBytes(const std::string& path);

class DiskGuard {
 public:
  using FreeFn = std::function<Result<uint64_t>(const std::string&)>;
  DiskGuard(std::string dir, uint64_t min_free_bytes, FreeFn free_fn = FreeBytes);

  void Refresh();
  // OK, or kUnavailable saying how much is free and what to do.
  Status Check() const;
  bool low() const { return low_.load(std::memory_order_relaxed); }
  uint64_t free_bytes() const { return free_.load(std::memory_order_relaxed); }
  uint64_t min_free_bytes() const { return min_free_; }
  uint64_t low_episodes() const { return episodes_.load(std::memory_order_relaxed); }

 private:
  const std::string dir_;
  const uint64_t min_free_;
  const uint64_t resume_at_;
  FreeFn free_fn_;
  std::atomic<bool> low_{false};
  std::atomic<uint64_t> free_{UINT64_MAX};
  std::atomic<uint64_t> episodes_{0};
};

}  // namespace vigil::lake
