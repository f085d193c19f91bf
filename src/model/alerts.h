// Alerts with hysteresis, so that a value hovering at a threshold does not flap:
//  - failure probability: warning at >= model.warning_threshold (0: 0.5 here; the scorer
//    passes the current model's chosen threshold in its place), critical at >=
//    model.critical_threshold (never below the warning threshold); a level is left only
//    below its threshold - model.hysteresis;
//  - ISO 10816 zone of the newest vibration: watch (> 4.5 mm/s), unsatisfactory (> 7.1),
//    critical (> 11.2); a zone is left downward only at model.zone_hysteresis mm/s below its
//    lower bound.
// An alert is raised when a level rises (entering warning/critical, or a worse zone); a
// falling level only updates the state. The state is kept per machine in vigil.db, so a
// restart does not repeat alerts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/scorer.h"
#include "vigil/config.h"

namespace vigil::model {

struct AlertLevels {
  int probability = 0;  // 0 none, 1 warning, 2 critical
  int zone = 0;         // 0 good, 1 watch, 2 unsatisfactory, 3 critical
};

// The next levels of one machine and the alerts of this step (thresholds from config.model;
// the probability's message names config.processing.label_horizon, the model's horizon).
std::vector<Alert> NextAlerts(const LatestPrediction& p, const Config& config, AlertLevels* levels);

// The retained message of industrial/machine/{id}/prediction and the alert message.
std::string PredictionJson(const LatestPrediction& p, int64_t horizon_ms);
std::string AlertJson(const Alert& a);

}  // namespace vigil::model
