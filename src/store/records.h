// Value types of rows the store reads and writes: a machine's newest prediction, an alert,
// a model, a processor batch. They live here, not in src/model/, because the store may
// not include model headers (model -> store, never back); model/prediction.h names them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vigil::store {

struct LatestPrediction {
  std::string machine_id;
  int64_t window_start_ms = 0;
  std::optional<int64_t> model_id;
  std::optional<double> probability;
  double anomaly_score = 0;
  std::optional<double> vibration;  // of the newest window, for the ISO zone
  // Remaining useful life in hours, when the model has a RUL model beside it (model.rul_cap).
  std::optional<double> rul_hours;
};

struct Alert {
  std::string machine_id;
  int64_t ts_ms = 0;       // the window that raised it
  std::string kind;        // failure_probability | iso_zone
  std::string level;       // warning | critical | watch | unsatisfactory
  double value = 0;        // the probability or the vibration
  std::string message;
  std::optional<double> rul_hours;  // a failure_probability alert's machine's, when known
};

struct ModelRecord {
  int64_t id = 0;
  int64_t created_ms = 0, data_from_ms = 0, data_to_ms = 0, split_ms = 0;
  int64_t train_rows = 0, test_rows = 0, train_positives = 0, test_positives = 0;
  std::string params_json, metrics_json, file, status;
};

// One processor batch (table batches).
struct BatchRecord {
  int64_t started_ms = 0, finished_ms = 0;
  int64_t segments = 0, lines = 0, readings = 0, duplicates = 0, failures = 0, bad_lines = 0, rows = 0;
  std::string outcome;
};

}  // namespace vigil::store
