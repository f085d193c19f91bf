#include "store/machine_json.h"

#include <cstdio>
#include <cstdlib>

#include "common/iso_zone.h"
#include "common/json_text.h"
#include "common/timestamp.h"

namespace vigil::store {

const char* IsoZone(double v) { return kIsoZoneName[IsoZoneIndex(v)]; }

std::optional<double> LatestValue(const MachineStatus& m, const std::string& column) {
  for (const auto& [name, v] : m.values) {
    if (name == column) return v;
  }
  return std::nullopt;
}

void AppendMachineJson(const MachineStatus& m, const Config& c, bool with_id, std::string* out) {
  *out += "{";
  if (with_id) {
    *out += "\"machine_id\":";
    AppendJsonString(m.machine_id, out);
    *out += ",";
  }
  *out += "\"newest_window\":\"" + FormatTimestampMs(m.window_start_ms) + "\",\"latest\":{";
  for (size_t k = 0; k < m.values.size(); ++k) {
    *out += (k ? ",\"" : "\"") + m.values[k].first + "\":" + ExactJsonNumber(m.values[k].second);
  }
  const SensorSpec* vib = c.FindSensor("vibration");
  std::optional<double> v = vib ? LatestValue(m, vib->field) : std::nullopt;
  *out += std::string("},\"iso10816_zone\":") + (v ? "\"" + std::string(IsoZone(*v)) + "\"" : "null");
  *out += ",\"last_failure\":" +
          (m.last_failure_ms ? "\"" + FormatTimestampMs(*m.last_failure_ms) + "\"" : std::string("null"));
  *out += ",\"failure_probability_7d\":" + ExactJsonNumber(m.failure_probability) +
          ",\"anomaly_score\":" + ExactJsonNumber(m.anomaly_score) +
          ",\"model_id\":" + (m.model_id ? std::to_string(*m.model_id) : std::string("null"));
  // Issue 19: the remaining useful life (null without a RUL model) and the horizon-neutral
  // alias of failure_probability_7d, whose horizon is processing.label_horizon.
  *out += ",\"rul_hours\":" + ExactJsonNumber(m.rul_hours) +
          ",\"failure_probability\":" + ExactJsonNumber(m.failure_probability) +
          ",\"horizon_hours\":" + ExactJsonNumber(static_cast<double>(c.processing.label_horizon_ms) / 3'600'000);
  if (m.labels_counted) {
    *out += ",\"labels\":{\"1\":" + std::to_string(m.label1) + ",\"0\":" + std::to_string(m.label0) +
            ",\"null\":" + std::to_string(m.label_null) + "}";
  }
  *out += "}";
}

}  // namespace vigil::store
