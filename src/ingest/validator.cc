#include "ingest/validator.h"

#include <cmath>
#include <cstring>

#include "common/json_text.h"
#include "common/timestamp.h"
#include "lake/line_format.h"
#include "lake/paths.h"

namespace vigil::ingest {
namespace {

// 2000-01-01T00:00:00Z: older timestamps are implausible for this appliance.
constexpr int64_t kMinTimestampMs = 946'684'800'000;

std::string Shorten(std::string_view s, size_t n = 80) {
  if (s.size() <= n) return std::string(s);
  return std::string(s.substr(0, n)) + "...";
}

}  // namespace

Validator::Validator(const Config& config)
    : prefix_(config.mqtt.topic_prefix + "/"),
      max_payload_bytes_(config.ingest.max_payload_bytes),
      max_skew_ms_(config.ingest.max_clock_skew_ms) {
  for (const SensorSpec& s : config.sensors) sensors_.push_back({s.name, s.field, s.min, s.max});
}

Verdict Validator::Validate(const RawMessage& m) {
  last_json_ = false;
  minified_len_ = 0;
  const std::string_view payload = m.payload;

  if (static_cast<int64_t>(payload.size()) > max_payload_bytes_) {
    return Reject(Reason::kTooLarge, "payload is " + std::to_string(payload.size()) +
                                         " bytes, the limit is " + std::to_string(max_payload_bytes_));
  }
  if (!IsValidUtf8(payload)) return Reject(Reason::kBadJson, "payload is not valid UTF-8");

  padded_.resize(payload.size() + simdjson::SIMDJSON_PADDING);
  // An empty payload may have a null data(): memcpy must not see it (UB, found by fuzzing).
  if (!payload.empty()) std::memcpy(padded_.data(), payload.data(), payload.size());
  simdjson::dom::element doc;
  simdjson::error_code err = parser_.parse(padded_.data(), payload.size(), false).get(doc);
  if (err == simdjson::NUMBER_ERROR) {
    return Reject(Reason::kBadValue, std::string("a number cannot be represented: ") +
                                         simdjson::error_message(err));
  }
  if (err) return Reject(Reason::kBadJson, std::string("not valid JSON: ") + simdjson::error_message(err));
  last_json_ = true;
  minified_.resize(payload.size() + 1);
  if (simdjson::minify(payload.data(), payload.size(), minified_.data(), minified_len_)) {
    minified_len_ = 0;  // cannot happen for a payload that parsed; keep the line valid anyway
    last_json_ = false;
    return Reject(Reason::kBadJson, "payload could not be minified");
  }
  if (!doc.is_object()) return Reject(Reason::kBadJson, "payload is JSON but not an object");
  simdjson::dom::object obj = doc.get_object().value_unsafe();

  // Topic: <prefix>/<machine_id>/telemetry/<sensor> or <prefix>/<machine_id>/event/failure.
  const std::string_view topic = m.topic;
  if (!topic.starts_with(prefix_)) {
    return Reject(Reason::kBadTopic, "topic does not start with '" + prefix_ + "'");
  }
  lake::TopicParts parts;
  if (!lake::SplitTopic(topic, prefix_, &parts)) {
    return Reject(Reason::kBadTopic, "expected <prefix>/<machine_id>/telemetry/<sensor> or "
                                     "<prefix>/<machine_id>/event/failure");
  }
  AcceptedMessage out;
  out.machine_id = parts.machine_id;
  std::string_view type = parts.type;
  std::string_view name = parts.name;
  const SensorRule* sensor = nullptr;
  if (type == "telemetry" && !name.empty()) {
    out.kind = MessageKind::kTelemetry;
  } else if (type == "event" && name == "failure") {
    out.kind = MessageKind::kFailure;
  } else {
    return Reject(Reason::kBadTopic, "'" + Shorten(std::string(type) + "/" + std::string(name)) +
                                         "' is neither telemetry/<sensor> nor event/failure");
  }
  out.sensor = name;
  if (!IsValidMachineId(out.machine_id)) {
    return Reject(Reason::kBadMachineId, "machine id '" + Shorten(out.machine_id) +
                                             "' does not match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$");
  }
  if (out.kind == MessageKind::kTelemetry) {
    for (const SensorRule& r : sensors_) {
      if (r.name == name) sensor = &r;
    }
    if (!sensor) return Reject(Reason::kUnknownSensor, "sensor '" + Shorten(name) + "' is not configured");
  }

  std::string_view payload_id;
  if (obj["machine_id"].get(payload_id)) {
    return Reject(Reason::kMachineIdMismatch, "payload has no string field machine_id");
  }
  if (payload_id != out.machine_id) {
    return Reject(Reason::kMachineIdMismatch, "payload machine_id '" + Shorten(payload_id) +
                                                  "' differs from the topic's '" +
                                                  std::string(out.machine_id) + "'");
  }

  std::string_view ts_text;
  if (obj["timestamp_utc"].get(ts_text)) {
    return Reject(Reason::kBadTimestamp, "payload has no string field timestamp_utc");
  }
  Result<int64_t> ts = ParseTimestampMs(ts_text);
  if (!ts) return Reject(Reason::kBadTimestamp, ts.error().message());
  out.event_ms = *ts;
  if (out.event_ms > m.received_ms + max_skew_ms_) {
    return Reject(Reason::kTimestampOutOfRange,
                  "timestamp " + FormatTimestampMs(out.event_ms) + " is more than " +
                      std::to_string(max_skew_ms_ / 1000) + " s ahead of the receive time " +
                      FormatTimestampMs(m.received_ms));
  }
  if (out.event_ms < kMinTimestampMs) {
    return Reject(Reason::kTimestampOutOfRange,
                  "timestamp " + Shorten(ts_text) + " is before 2000-01-01");
  }

  if (out.kind == MessageKind::kTelemetry) {
    simdjson::dom::element v;
    if (obj[sensor->field].get(v)) return Reject(Reason::kBadValue, "payload has no field " + sensor->field);
    if (!v.is_number()) return Reject(Reason::kBadValue, "field " + sensor->field + " is not a number");
    out.value = v.get_double().value_unsafe();
    if (!std::isfinite(out.value)) return Reject(Reason::kBadValue, "field " + sensor->field + " is not finite");
    if (out.value < sensor->min || out.value > sensor->max) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "%s = %g is outside the plausible range [%g, %g]",
                    sensor->field.c_str(), out.value, sensor->min, sensor->max);
      return Reject(Reason::kOutOfRange, buf);
    }
  } else {
    std::string_view code;
    bool has = !obj["codigo_evento"].get(code) || !obj["event_code"].get(code);
    if (!has || code.empty()) {
      return Reject(Reason::kBadValue, "failure event needs a non-empty string codigo_evento (or event_code)");
    }
    out.event_code = code;
  }
  out.minified = minified();
  return out;
}

}  // namespace vigil::ingest
