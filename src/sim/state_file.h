// Where the simulator keeps its state in the data directory, and how it is written:
// atomically (<path>.tmp, fsync, rename, fsync of the directory), so a crash leaves either
// the old or the new state, never a torn one. Errors carry the path and strerror.
// Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

#include "vigil/status.h"

namespace vigil::sim {

// <data_dir>/simulate/state and its lock file.
std::string StateDir(const std::string& data_dir);
std::string StatePath(const std::string& data_dir);
std::string LockPath(const std::string& data_dir);

// Creates the directory (and its parents) if missing.
Status CreateDirs(const std::string& dir);
Status WriteFileAtomic(const std::string& path, std::string_view data);
// kNotFound when the file does not exist.
Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace vigil::sim
