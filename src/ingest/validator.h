// Validator: the contract's §1 rules, applied to one MQTT message.
//
// Rules are checked in this order, and the first failure is the reason: too_large,
// bad_json (UTF-8, JSON syntax, an object), bad_topic, bad_machine_id, unknown_sensor,
// machine_id_mismatch, bad_timestamp, timestamp_out_of_range, bad_value, out_of_range.
// On success the message is minified into an internal buffer that AcceptedMessage points
// to until the next call.
//
// Not thread-safe (it owns a simdjson parser and buffers): one Validator per thread.
#pragma once

#include <simdjson.h>

#include <string>
#include <variant>
#include <vector>

#include "lake/paths.h"
#include "vigil/config.h"
#include "vigil/message.h"

namespace vigil::ingest {

using Verdict = std::variant<AcceptedMessage, Rejection>;

class Validator {
 public:
  explicit Validator(const Config& config);

  Verdict Validate(const RawMessage& m);

  // True when the payload of the last Validate() call parsed as JSON (the quarantine keeps
  // such payloads as JSON, minified into minified()).
  bool last_payload_was_json() const { return last_json_; }
  std::string_view minified() const { return {minified_.data(), minified_len_}; }

 private:
  struct SensorRule {
    std::string name;
    std::string field;
    double min, max;
  };
  Rejection Reject(Reason r, std::string detail) { return Rejection{r, std::move(detail)}; }

  const std::string prefix_;  // "<topic_prefix>/"
  const int64_t max_payload_bytes_;
  const int64_t max_skew_ms_;
  std::vector<SensorRule> sensors_;

  simdjson::dom::parser parser_;
  std::vector<char> padded_;    // payload copy with simdjson's padding
  std::vector<char> minified_;
  size_t minified_len_ = 0;
  bool last_json_ = false;
};

// ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$: the lake's rule (lake/paths.h), since the id becomes
// a path component.
using lake::IsValidMachineId;

}  // namespace vigil::ingest
