// Views of vigil.db for `vigil status`, the dashboard and the API: read-only connections,
// and tables of the model stage read only when they exist (before the first scoring they
// are just absent).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/records.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::store {

// What `vigil status` shows from the store. Opens the database read-only.
struct MachineStatus {
  std::string machine_id;
  int64_t window_start_ms = 0;
  std::vector<std::pair<std::string, std::optional<double>>> values;  // columns of latest_features
  std::optional<int64_t> last_failure_ms;
  int64_t label1 = 0, label0 = 0, label_null = 0;
  bool labels_counted = false;  // ReadStatus(label_counts = true)
  // From latest_predictions, once the model stage has scored (src/model/).
  std::optional<double> failure_probability, anomaly_score;
  std::optional<int64_t> model_id;
  std::optional<double> rul_hours;  // when the current model has a remaining-useful-life model
};
struct StoreStatus {
  std::vector<MachineStatus> machines;
  int64_t batches = 0;
  std::optional<BatchRecord> last_batch;
};
// label_counts: also the labels per machine, from label_counts (a row a machine; a store
// the processor has not opened since that table came is counted row by row, a scan of all
// of `features`: for `vigil status`, not for the dashboard's polling).
Result<StoreStatus> ReadStatus(const std::string& db_path, const Config& config, bool label_counts = true);

// A machine's window values and features over [from_ms, to_ms), averaged into buckets of
// step_ms (the dashboard's charts: a week of 1 s windows becomes ~1000 points), with the
// failures in the range and, when the tables exist, predictions and alerts.
struct SeriesQuery {
  std::string machine_id;
  int64_t from_ms = 0, to_ms = 0, step_ms = 0;
};
struct Series {
  std::vector<std::string> columns;  // sensor fields, then features
  std::vector<int64_t> t;            // every bucket's start, empty buckets too (values null)
  std::vector<std::vector<std::optional<double>>> values;  // [column][bucket]
  std::vector<std::pair<int64_t, std::string>> failures;   // time, code
  // The current model's mean probability per bucket of t (null: none); empty if none at all.
  std::vector<std::optional<double>> predictions;
  std::vector<Alert> alerts;                        // in the range, by time
};
Result<Series> ReadSeries(const std::string& db_path, const Config& config, const SeriesQuery& q);
// The newest `limit` alerts, of one machine or (machine_id "") all; none before the model
// stage has made its table.
std::vector<Alert> ReadAlerts(const std::string& db_path, const std::string& machine_id, int64_t limit);

}  // namespace vigil::store
