// The option table: every scalar config key once, with type, range, default and help.
// It drives file parsing, range checks, and the documentation test that keeps
// config/vigil.toml complete. [[sensors]] and [[features]] are parsed separately.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "vigil/config.h"

namespace vigil::config_internal {

enum class OptType { kString, kInt, kDuration, kBytes, kFsync, kBool, kDouble, kStringList };

using StrRef = std::string& (*)(Config&);
using IntRef = int64_t& (*)(Config&);
using FsyncRef = FsyncPolicy& (*)(Config&);
using BoolRef = bool& (*)(Config&);
using DoubleRef = double& (*)(Config&);
using StrListRef = std::vector<std::string>& (*)(Config&);

struct Option {
  const char* key;  // dotted: "mqtt.host"; top-level keys have no dot
  OptType type;
  std::variant<StrRef, IntRef, FsyncRef, BoolRef, DoubleRef, StrListRef> ref;
  int64_t min = 0;  // inclusive range for kInt/kDuration/kBytes/kDouble
  int64_t max = 0;
  std::vector<std::string> choices;  // allowed values of a kString, empty = any
  const char* help = "";
};

const std::vector<Option>& Options();

// The value of an option in `c` as a TOML literal ("\"127.0.0.1\"", "1883", "\"5m\"").
std::string TomlValue(const Option& o, const Config& c);

// "" when the value held in c is acceptable, else why not.
std::string CheckOption(const Option& o, const Config& c);

}  // namespace vigil::config_internal
