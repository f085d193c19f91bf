// Scoring after each batch: the current (promoted) model scores the `features` rows newer
// than what it has already scored (per machine, table `scored`), into `predictions`; then
// `latest_predictions` gets each machine's newest probability and its anomaly score (the
// largest robust z-score of the newest window values against the machine's own trailing
// model.anomaly_baseline), which is what a new installation shows before any model.
// Cost: the new rows plus one baseline per machine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::model {

struct LatestPrediction {
  std::string machine_id;
  int64_t window_start_ms = 0;
  std::optional<int64_t> model_id;
  std::optional<double> probability;
  double anomaly_score = 0;
  std::optional<double> vibration;  // of the newest window, for the ISO zone
};

struct ScoreSummary {
  int64_t rows_scored = 0;
  int64_t model_id = 0;  // 0: no model yet (anomaly scores only)
  std::string warning;   // e.g. the model does not fit the configured features
  std::vector<LatestPrediction> latest;
};

Result<ScoreSummary> ScoreNew(const Config& config);

}  // namespace vigil::model
