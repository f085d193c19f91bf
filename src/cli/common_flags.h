// Flags shared by subcommands (contract §4) and how they resolve into a Config:
// built-in defaults < --config FILE < flags (< VIGIL_MQTT_USERNAME/PASSWORD environment).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::cli {

// Exit codes every script can rely on (contract §4).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitRejected = 3;

int ExitCodeFor(const Status& s);

struct CommonFlags {
  std::string config_path;
  std::string data_dir;
  std::string host;
  int port = 0;
  std::string client_id;
  std::string log_level;
  std::string log_format;

  // broker: --host/--port/--client-id too.
  void Add(CLI::App* app, bool broker);
  // Loads, overrides, checks, and sets up logging.
  Result<Config> Resolve() const;
};

// --from/--until (YYYY-MM-DD or ISO-8601; empty = unbounded) into [*from_ms, *until_ms).
Status ParseTimeRange(const std::string& from, const std::string& until, int64_t* from_ms,
                      int64_t* until_ms);

// Prints "vigil <command>: <message>" to stderr and returns the exit code for s.
int Fail(const std::string& command, const Status& s);

}  // namespace vigil::cli
