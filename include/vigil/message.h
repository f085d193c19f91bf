// Value types of the data contract (../shared/spec/contract.md §1-§2).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil {

// One MQTT message as it arrived, before any validation.
struct RawMessage {
  std::string_view topic;
  std::string_view payload;
  int64_t received_ms = 0;  // receive time, UTC epoch ms
};

// Why a message went to the quarantine. The codes are the contract's (§1) plus
// kTornLine, the project's own code for a line cut off by a crash mid-write.
enum class Reason {
  kTooLarge,
  kBadJson,
  kBadTopic,
  kBadMachineId,
  kMachineIdMismatch,
  kBadTimestamp,
  kTimestampOutOfRange,
  kBadValue,
  kOutOfRange,
  kUnknownSensor,
  kTornLine,
};
inline constexpr int kReasonCount = static_cast<int>(Reason::kTornLine) + 1;

// The contract's snake_case code, e.g. "bad_json".
std::string_view ReasonCode(Reason r);

// What the topic says a message is.
enum class MessageKind { kTelemetry, kFailure };

// A message that passed validation: where it goes in the lake and what it holds.
struct AcceptedMessage {
  MessageKind kind = MessageKind::kTelemetry;
  std::string_view machine_id;  // points into the topic
  std::string_view sensor;      // sensor name, or "failure"; points into the topic
  int64_t event_ms = 0;         // timestamp_utc, truncated to ms
  double value = 0;             // telemetry value (unused for failures)
  std::string_view event_code;  // failure code (points into the parser's buffer)
  std::string_view minified;    // payload, minified (points into the validator's buffer)
};

// A message that failed validation.
struct Rejection {
  Reason reason = Reason::kBadJson;
  std::string detail;  // human-readable: what exactly is wrong
};

}  // namespace vigil
