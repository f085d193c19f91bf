// vigil train: loads the labelled rows, splits them by time with a purge gap, trains
// XGBoost with the class imbalance weighted, evaluates it next to two baselines on the
// same test rows (the ISO 10816 zone rule and the base rate) and against the current
// model, stores it in the registry, and promotes it when it is not worse than the current
// one on this newest test period (and better than the base rate), and its test period
// starts no earlier than the current model's (a model tested on older data never replaces
// one tested on newer data by itself: it is rejected, saying so).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/metrics.h"
#include "vigil/clock.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::model {

struct TrainOptions {
  bool shuffle_labels = false;  // a deliberately useless model (tests the promotion rule)
  bool promote = true;          // false: register it as a candidate only
};

struct TrainReport {
  int64_t model_id = 0;
  bool promoted = false;
  std::string decision;  // why (not) promoted
  int64_t data_from_ms = 0, data_to_ms = 0, split_ms = 0;
  size_t train_rows = 0, test_rows = 0, train_positives = 0, test_positives = 0;
  int64_t training_failures = 0;
  Evaluation model, iso_rule, base_rate;
  std::optional<Evaluation> current;  // the model promoted before, on the same test rows
  int64_t current_id = 0;
  std::string current_unusable;  // why the current model could not be compared, if it could not
  std::string file;
};

// Holds the train lock (data_paths::TrainLock) throughout; kUnavailable while another
// training holds it. Rows left "training" by a training that died are marked "failed" first.
Result<TrainReport> Train(const Config& config, Clock& clock, const TrainOptions& options);

// What Train() does first, for `vigil run`'s start and `vigil models`: when no training
// runs (the train lock is free), marks the rows left "training" "failed" and returns how
// many (logged). 0 without a vigil.db or while a training runs.
Result<int64_t> FailUnfinishedTrainings(const Config& config);

std::string ModelsDir(const Config& config);  // <data_dir>/models

}  // namespace vigil::model
