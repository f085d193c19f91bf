#include "lake/disk_guard.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/logging.h"

namespace vigil::lake {

Result<uint64_t> FreeBytes(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return Status::IoError("statvfs " + path + ": " + std::strerror(errno));
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

DiskGuard::DiskGuard(std::string dir, uint64_t min_free_bytes, FreeFn free_fn)
    : dir_(std::move(dir)),
      min_free_(min_free_bytes),
      resume_at_(min_free_bytes == 0 ? 0 : min_free_bytes + std::max<uint64_t>(min_free_bytes / 10, 1 << 20)),
      free_fn_(std::move(free_fn)) {}

void DiskGuard::Refresh() {
  Result<uint64_t> f = free_fn_(dir_);
  if (!f) return;  // keep the last reading; a failing statvfs is not a reason to stop
  free_.store(*f, std::memory_order_relaxed);
  if (min_free_ == 0) return;
  const bool was_low = low();
  if (!was_low && *f < min_free_) {
    low_.store(true, std::memory_order_relaxed);
    episodes_.fetch_add(1, std::memory_order_relaxed);
    GetLogger("lake")->error(
        "disk low: {} MiB free on {} < lake.min_free_bytes {} MiB; not taking messages (the broker "
        "queues them) until {} MiB are free. Free space, or lower retention limits.",
        *f >> 20, dir_, min_free_ >> 20, resume_at_ >> 20);
  } else if (was_low && *f >= resume_at_) {
    low_.store(false, std::memory_order_relaxed);
    GetLogger("lake")->warn("disk space back: {} MiB free on {}; taking messages again", *f >> 20, dir_);
  }
}

Status DiskGuard::Check() const {
  if (!low()) return Status::Ok();
  return Status::Unavailable("disk low: " + std::to_string(free_bytes() >> 20) + " MiB free on " + dir_ +
                             " (lake.min_free_bytes " + std::to_string(min_free_ >> 20) +
                             " MiB); holding the message until space is freed");
}

}  // namespace vigil::lake
