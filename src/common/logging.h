// Logging: spdlog, one named logger per pipeline stage ("ingest", "lake", "cli", ...), all
// sharing the sinks chosen once in main by SetupLogging. Text by default; JSON lines for
// log shippers. Per-message events are counted, not logged.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "vigil/status.h"

namespace vigil {

// level: trace|debug|info|warn|error; format: text|json. Logs go to stderr.
Status SetupLogging(const std::string& level, const std::string& format);

// The logger of a stage; created on first use with the sinks of the default logger.
std::shared_ptr<spdlog::logger> GetLogger(const std::string& name);

}  // namespace vigil
