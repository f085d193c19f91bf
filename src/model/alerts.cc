#include "model/alerts.h"

#include <algorithm>
#include <cstdio>

#include "common/iso_zone.h"
#include "common/json_text.h"
#include "common/timestamp.h"

namespace vigil::model {
namespace {

const char* const kProbName[] = {"none", "warning", "critical"};

// model.warning_threshold 0 means the current model's chosen threshold: the scorer puts
// it in the config it passes; without one, 0.5. The critical level is never below it.
double Warning(const ModelConfig& mc) { return mc.warning_threshold > 0 ? mc.warning_threshold : 0.5; }
double Critical(const ModelConfig& mc) { return std::max(mc.critical_threshold, Warning(mc)); }

int ProbabilityLevel(double p, int prev, const ModelConfig& mc) {
  const double thr[] = {0, Warning(mc), Critical(mc)};
  for (int level = 2; level >= 1; --level) {
    if (p >= thr[level]) return level;
    if (prev >= level && p >= thr[level] - mc.hysteresis) return level;  // inside the band: stay
  }
  return 0;
}

int ZoneLevel(double v, int prev, double band) {
  const int raw = IsoZoneIndex(v);
  if (raw >= prev) return raw;
  int level = prev;
  while (level > raw && v <= kIsoZoneLowerBound[level] - band) --level;
  return level;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// processing.label_horizon in words: "7 days", "36 hours", "90 minutes", "45 seconds".
std::string HorizonText(int64_t ms) {
  struct Unit { int64_t ms; const char* name; };
  for (const Unit& u : {Unit{86'400'000, "day"}, Unit{3'600'000, "hour"}, Unit{60'000, "minute"}}) {
    if (ms >= u.ms && ms % u.ms == 0) {
      const int64_t n = ms / u.ms;
      return std::to_string(n) + " " + u.name + (n == 1 ? "" : "s");
    }
  }
  return Num(static_cast<double>(ms) / 1000) + " seconds";
}

}  // namespace

std::vector<Alert> NextAlerts(const LatestPrediction& p, const Config& config, AlertLevels* levels) {
  const ModelConfig& mc = config.model;
  std::vector<Alert> out;
  if (p.probability) {
    const int next = ProbabilityLevel(*p.probability, levels->probability, mc);
    if (next > levels->probability) {
      out.push_back({p.machine_id, p.window_start_ms, "failure_probability", kProbName[next], *p.probability,
                     "failure probability within " + HorizonText(config.processing.label_horizon_ms) + " " + Num(*p.probability) + " >= " + kProbName[next] +
                         " threshold " + Num(next == 2 ? Critical(mc) : Warning(mc)),
                     p.rul_hours});
    }
    levels->probability = next;
  }
  if (p.vibration) {
    const int next = ZoneLevel(*p.vibration, levels->zone, mc.zone_hysteresis);
    if (next > levels->zone) {
      out.push_back({p.machine_id, p.window_start_ms, "iso_zone", kIsoZoneName[next], *p.vibration,
                     std::string("ISO 10816 zone ") + kIsoZoneName[next] + ": vibration " + Num(*p.vibration) +
                         " mm/s > " + Num(kIsoZoneLowerBound[next]),
                     std::nullopt});
    }
    levels->zone = next;
  }
  return out;
}

std::string PredictionJson(const LatestPrediction& p, int64_t horizon_ms) {
  std::string j = "{\"machine_id\":";
  AppendJsonString(p.machine_id, &j);
  j += ",\"timestamp_utc\":\"" + FormatTimestampMs(p.window_start_ms) + "\",\"failure_probability_7d\":" +
       ExactJsonNumber(p.probability) + ",\"model_id\":" +
       (p.model_id ? std::to_string(*p.model_id) : "null") + ",\"iso10816_zone\":";
  if (p.vibration) {
    j += "\"" + std::string(kIsoZoneName[IsoZoneIndex(*p.vibration)]) + "\"";
  } else {
    j += "null";
  }
  // After the contract's fields: the remaining useful life and the horizon-neutral alias
  // of failure_probability_7d (its horizon is processing.label_horizon, not always 7 days).
  return j + ",\"anomaly_score\":" + ExactJsonNumber(p.anomaly_score) + ",\"rul_hours\":" + ExactJsonNumber(p.rul_hours) +
         ",\"failure_probability\":" + ExactJsonNumber(p.probability) +
         ",\"horizon_hours\":" + ExactJsonNumber(static_cast<double>(horizon_ms) / 3'600'000) + "}";
}

std::string AlertJson(const Alert& a) {
  std::string j = "{\"machine_id\":";
  AppendJsonString(a.machine_id, &j);
  j += ",\"timestamp_utc\":\"" + FormatTimestampMs(a.ts_ms) + "\",\"kind\":\"" + a.kind + "\",\"level\":\"" + a.level +
       "\",\"value\":" + ExactJsonNumber(a.value) + ",\"message\":";
  AppendJsonString(a.message, &j);
  return j + ",\"rul_hours\":" + ExactJsonNumber(a.rul_hours) + "}";
}

}  // namespace vigil::model
