// The lake's line format (contract §2), written and read in this one place: ingest writes
// raw and quarantine lines, the processor and replay read raw lines back, the processor
// quarantines a line it cannot use; every topic is split here. Built by hand for speed.
//
//   raw:        {"received_at":"2025-10-15T09:00:01.500Z","topic":"...","payload":{...}}
//   quarantine: {"received_at":..,"topic":..,"reason":"bad_json","detail":"...","payload":..}
//
// In the quarantine, payload is the minified JSON when it parsed, else a JSON string of the
// text, or, when it is not UTF-8, a base64 string with "payload_encoding":"base64".
// A topic that is not UTF-8 is written as "topic_base64" instead of "topic".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "vigil/message.h"

namespace vigil::lake {

// Appends the line, '\n' included.
void AppendRawLine(int64_t received_ms, std::string_view topic, std::string_view minified,
                   std::string* out);

// json_payload: the minified payload when it was valid JSON, else nullopt.
void AppendQuarantineLine(int64_t received_ms, std::string_view topic, Reason reason,
                          std::string_view detail, std::string_view payload,
                          std::optional<std::string_view> json_payload, std::string* out);

struct RawLine {
  std::string_view topic;    // as published (points into the line or the parser)
  std::string_view payload;  // the exact payload bytes stored in the line
  simdjson::dom::object payload_object;  // the payload, parsed (valid until the next parse)
  int64_t event_ms = 0;      // payload timestamp_utc
  int64_t received_ms = 0;
};

// False (with *why) when the line is not a raw lake line with a parsable timestamp.
bool ParseRawLine(std::string_view line, simdjson::dom::parser& parser, RawLine* out,
                  std::string* why);

// A topic's levels after the prefix: <prefix>/<machine_id>/<type>/<name>, where type is
// "telemetry" (name: the sensor) or "event" (name: "failure"); the views point into topic.
struct TopicParts {
  std::string_view machine_id;
  std::string_view type;
  std::string_view name;
};
// False when the topic does not start with prefix (which ends in '/') or does not have
// exactly three more levels; the levels' values are not checked here.
bool SplitTopic(std::string_view topic, std::string_view prefix, TopicParts* out);

// vigil's own outputs under the prefix, <prefix>/<machine_id>/<level>: the scheduler's
// retained predictions and the alert outbox's alerts. vigil run subscribes to <prefix>/#
// and so receives them back: ingest recognises them (neither lake nor quarantine).
inline constexpr std::string_view kPredictionLevel = "prediction";
inline constexpr std::string_view kAlertLevel = "alert";
// topic_prefix without the trailing '/' (as configured), level one of the two above.
std::string OutputTopic(std::string_view topic_prefix, std::string_view machine_id, std::string_view level);
// True for <prefix>/<one non-empty level>/prediction or .../alert (prefix ends in '/').
bool IsOutputTopic(std::string_view topic, std::string_view prefix);

}  // namespace vigil::lake
