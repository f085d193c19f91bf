// Value types of the model stage's output: a machine's newest prediction and an alert.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vigil::model {

struct LatestPrediction {
  std::string machine_id;
  int64_t window_start_ms = 0;
  std::optional<int64_t> model_id;
  std::optional<double> probability;
  double anomaly_score = 0;
  std::optional<double> vibration;  // of the newest window, for the ISO zone
};

struct Alert {
  std::string machine_id;
  int64_t ts_ms = 0;       // the window that raised it
  std::string kind;        // failure_probability | iso_zone
  std::string level;       // warning | critical | watch | unsatisfactory
  double value = 0;        // the probability or the vibration
  std::string message;
};

}  // namespace vigil::model
