#include "lake/line_format.h"

#include "common/json_text.h"
#include "common/timestamp.h"

namespace vigil::lake {
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

bool ParseRawLine(std::string_view line, simdjson::dom::parser& parser, RawLine* out,
                  std::string* why) {
  simdjson::dom::element doc;
  if (parser.parse(line.data(), line.size(), true).get(doc)) {
    *why = "not valid JSON";
    return false;
  }
  std::string_view received, topic, ts;
  simdjson::dom::object payload;
  if (doc["received_at"].get(received) || doc["topic"].get(topic) || doc["payload"].get(payload)) {
    *why = "not a raw lake line (received_at, topic, payload)";
    return false;
  }
  // The payload's bytes are taken as what follows the envelope's prefix up to the last '}':
  // that holds only when "payload" is the object's third and last key (found by fuzzing:
  // a key after it ran into the payload).
  simdjson::dom::object envelope = doc.get_object().value_unsafe();
  if (envelope.size() != 3) {
    *why = "not a raw lake line (keys other than received_at, topic, payload)";
    return false;
  }
  if (payload["timestamp_utc"].get(ts)) {
    *why = "payload has no timestamp_utc";
    return false;
  }
  Result<int64_t> event = ParseTimestampMs(ts);
  Result<int64_t> recv = ParseTimestampMs(received);
  if (!event || !recv) {
    *why = "unparsable timestamp";
    return false;
  }
  // The payload's exact bytes: the writer puts it last, after a prefix we can rebuild.
  // First compared in place, as the writer lays it out when neither string needs an
  // escape (always, for vigil's own lines): a match there is the rebuilt prefix, since
  // a string that needs one cannot appear unescaped in valid JSON. Rebuilt otherwise.
  size_t prefix_size = 0;
  auto literal = [&](std::string_view piece) {
    if (line.compare(prefix_size, piece.size(), piece) != 0) return false;
    prefix_size += piece.size();
    return true;
  };
  if (!(literal("{\"received_at\":\"") && literal(received) && literal("\",\"topic\":\"") && literal(topic) &&
        literal("\",\"payload\":"))) {
    thread_local std::string prefix;  // reused: no allocation per line
    prefix = "{\"received_at\":";
    AppendJsonString(received, &prefix);
    prefix += ",\"topic\":";
    AppendJsonString(topic, &prefix);
    prefix += ",\"payload\":";
    prefix_size = line.starts_with(prefix) ? prefix.size() : 0;
  }
  if (prefix_size == 0 || !line.ends_with("}")) {
    *why = "unexpected envelope layout";
    return false;
  }
  out->payload = line.substr(prefix_size, line.size() - prefix_size - 1);
  out->topic = topic;
  out->payload_object = payload;
  out->event_ms = *event;
  out->received_ms = *recv;
  return true;
}

std::string OutputTopic(std::string_view topic_prefix, std::string_view machine_id, std::string_view level) {
  std::string t;
  t.reserve(topic_prefix.size() + machine_id.size() + level.size() + 2);
  t.append(topic_prefix).append(1, '/').append(machine_id).append(1, '/').append(level);
  return t;
}

bool IsOutputTopic(std::string_view topic, std::string_view prefix) {
  // The last level first: a telemetry topic fails here after two short compares.
  size_t level;
  if (topic.ends_with(kPredictionLevel)) {
    level = topic.size() - kPredictionLevel.size();
  } else if (topic.ends_with(kAlertLevel)) {
    level = topic.size() - kAlertLevel.size();
  } else {
    return false;
  }
  if (level < prefix.size() + 2 || topic[level - 1] != '/' || !topic.starts_with(prefix)) return false;
  const std::string_view id = topic.substr(prefix.size(), level - 1 - prefix.size());
  return id.find('/') == std::string_view::npos;
}

bool SplitTopic(std::string_view topic, std::string_view prefix, TopicParts* out) {
  if (!topic.starts_with(prefix)) return false;
  const std::string_view rest = topic.substr(prefix.size());
  const size_t s1 = rest.find('/');
  const size_t s2 = s1 == std::string_view::npos ? s1 : rest.find('/', s1 + 1);
  if (s2 == std::string_view::npos || rest.find('/', s2 + 1) != std::string_view::npos) return false;
  out->machine_id = rest.substr(0, s1);
  out->type = rest.substr(s1 + 1, s2 - s1 - 1);
  out->name = rest.substr(s2 + 1);
  return true;
}

}  // namespace vigil::lake

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
