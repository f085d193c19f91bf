// Folder src/model/: the model stage (training, promotion, scoring, alerts, the outbox).
// Calls common, lake (atomic model files), store (every row it reads or writes) and mqtt
// (the outbox); no SQL of its own.
//
// Scoring after each batch: the current (promoted) model scores the `features` rows newer
// than what it has already scored (per machine, table `scored`), into `predictions`; then
// `latest_predictions` gets each machine's newest probability and its anomaly score (the
// largest robust z-score of the newest window values against the machine's own trailing
// model.anomaly_baseline), which is what a new installation shows before any model.
// Rows the processor rewrote (rescore_from) are scored again. Cost: the new and rewritten
// rows plus one baseline per machine with a new window; machines share a transaction
// until it has held the write lock about 100 ms (scorer.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/prediction.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::model {

struct ScoreSummary {
  int64_t rows_scored = 0;
  int64_t model_id = 0;  // 0: no model yet (anomaly scores only)
  std::string warning;   // e.g. the model does not fit the configured features
  std::vector<LatestPrediction> latest;
  std::vector<Alert> alerts;  // raised by this scoring (model/alerts.h), also in `alerts`
};

Result<ScoreSummary> ScoreNew(const Config& config);

}  // namespace vigil::model
