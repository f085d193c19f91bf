// The lake's line format (contract §2), built by hand for speed; see lake/jsonl_writer.h.
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

#include "vigil/message.h"

namespace vigil::ingest {

// Appends the line, '\n' included.
void AppendRawLine(int64_t received_ms, std::string_view topic, std::string_view minified,
                   std::string* out);

// json_payload: the minified payload when it was valid JSON, else nullopt.
void AppendQuarantineLine(int64_t received_ms, std::string_view topic, Reason reason,
                          std::string_view detail, std::string_view payload,
                          std::optional<std::string_view> json_payload, std::string* out);

}  // namespace vigil::ingest
