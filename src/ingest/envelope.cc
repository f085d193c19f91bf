#include "ingest/envelope.h"

#include "common/json_text.h"
#include "common/timestamp.h"

namespace vigil::ingest {
namespace {

void AppendHead(int64_t received_ms, std::string_view topic, std::string* out) {
  char ts[kTimestampLen];
  FormatTimestampMs(received_ms, ts);
  out->append("{\"received_at\":\"").append(ts, kTimestampLen).append("\",");
  if (IsValidUtf8(topic)) {
    out->append("\"topic\":");
    AppendJsonString(topic, out);
  } else {
    out->append("\"topic_base64\":\"");
    AppendBase64(topic, out);
    out->push_back('"');
  }
}

}  // namespace


void AppendRawLine(int64_t received_ms, std::string_view topic, std::string_view minified,
                   std::string* out) {
  AppendHead(received_ms, topic, out);
  out->append(",\"payload\":").append(minified).append("}\n");
}

void AppendQuarantineLine(int64_t received_ms, std::string_view topic, Reason reason,
                          std::string_view detail, std::string_view payload,
                          std::optional<std::string_view> json_payload, std::string* out) {
  AppendHead(received_ms, topic, out);
  out->append(",\"reason\":\"").append(ReasonCode(reason)).append("\",\"detail\":");
  AppendJsonString(IsValidUtf8(detail) ? detail : std::string_view("(detail not UTF-8)"), out);
  if (json_payload) {
    out->append(",\"payload\":").append(*json_payload);
  } else if (IsValidUtf8(payload)) {
    out->append(",\"payload\":");
    AppendJsonString(payload, out);
  } else {
    out->append(",\"payload_encoding\":\"base64\",\"payload\":\"");
    AppendBase64(payload, out);
    out->push_back('"');
  }
  out->append("}\n");
}

}  // namespace vigil::ingest

namespace vigil {

std::string_view ReasonCode(Reason r) {
  switch (r) {
    case Reason::kTooLarge: return "too_large";
    case Reason::kBadJson: return "bad_json";
    case Reason::kBadTopic: return "bad_topic";
    case Reason::kBadMachineId: return "bad_machine_id";
    case Reason::kMachineIdMismatch: return "machine_id_mismatch";
    case Reason::kBadTimestamp: return "bad_timestamp";
    case Reason::kTimestampOutOfRange: return "timestamp_out_of_range";
    case Reason::kBadValue: return "bad_value";
    case Reason::kOutOfRange: return "out_of_range";
    case Reason::kUnknownSensor: return "unknown_sensor";
    case Reason::kTornLine: return "torn_line";
  }
  return "unknown";
}

}  // namespace vigil
