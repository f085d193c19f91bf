// DirLock: an exclusive flock(2) on a file in the data directory, so that two daemons (or
// two processors) never work on the same files. The kernel drops it when the process dies,
// even by kill -9, so a crash never leaves a stale lock. The file holds the owner's pid
// for the error message.
#pragma once

#include <string>

#include "vigil/status.h"

namespace vigil {

class DirLock {
 public:
  // Fails with kUnavailable ("... is held by pid N") when another process holds it.
  static Result<DirLock> Acquire(const std::string& path, const std::string& what);
  // The pid written by the holder, or 0 when nobody holds the lock.
  static int Holder(const std::string& path);

  DirLock(DirLock&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
  DirLock& operator=(DirLock&& o) noexcept;
  DirLock(const DirLock&) = delete;
  ~DirLock();

 private:
  DirLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace vigil
