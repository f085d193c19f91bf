// Predictions and alerts in vigil.db: what the scorer reads and writes (ScoringDb), the
// alerts the outbox publishes, and the one decoder of an alert row.
// Tables: predictions, latest_predictions, scored, rescore_from, alerts, alert_state,
// baseline_runs
// (store/schema.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/db.h"
#include "store/model_registry.h"
#include "store/records.h"
#include "vigil/status.h"

namespace vigil::store {

// The columns of an alert row, in the order AlertFromRow reads them from `first` on.
inline constexpr const char* kAlertColumns = "machine_id, ts_ms, kind, level, value, message, rul_hours";
Alert AlertFromRow(const Stmt& st, int first);

// A new, unpublished row of `alerts` (the outbox publishes it).
Status InsertAlert(Db& db, const Alert& a);

// The oldest `limit` unpublished alerts with their ids, in id order; none (not an error)
// when there is no vigil.db yet.
Result<std::vector<std::pair<int64_t, Alert>>> ReadUnpublishedAlerts(const std::string& db_path, int limit);
// Marks every unpublished alert with id <= max_id published.
Status MarkAlertsPublished(const std::string& db_path, int64_t max_id);

// The scorer's statements on one connection. Not thread-safe.
class ScoringDb {
 public:
  // columns: the model's inputs (features table columns); sensor_fields: the sensors'.
  static Result<std::unique_ptr<ScoringDb>> Open(const std::string& path, const std::vector<std::string>& columns,
                                                 const std::vector<std::string>& sensor_fields);
  ~ScoringDb() { stmts_.clear(); }  // statements before the connection
  ModelDb& db() { return db_; }

  Result<std::vector<std::string>> Machines();  // of latest_features, ordered
  Status Begin();
  Status Commit();
  void Rollback();

  // The newest window the model scored for the machine (INT64_MIN: none).
  Result<int64_t> ScoredUntil(const std::string& machine, int64_t model_id);
  // The earliest row the processor rewrote since the last scoring, if any.
  Result<std::optional<int64_t>> RescoreFrom(const std::string& machine);
  // Up to limit rows with window start > after_ms, in order: their times and columns (NaN
  // for NULL), row-major.
  Status RowsAfter(const std::string& machine, int64_t after_ms, int64_t limit, std::vector<int64_t>* t,
                   std::vector<float>* x);
  // rul_hours: the remaining-useful-life model's, NULL without one.
  Status PutPrediction(const std::string& machine, int64_t window_start_ms, int64_t model_id, double p,
                       std::optional<double> rul_hours);
  // Records the scoring watermark and consumes the machine's rescore mark.
  Status SetScoredUntil(const std::string& machine, int64_t model_id, int64_t until_ms);

  // The machine's newest window (latest_features): its start and the sensors' values.
  struct Newest {
    int64_t window_start_ms = 0;
    std::vector<std::optional<double>> sensor_values;
  };
  Result<std::optional<Newest>> NewestWindow(const std::string& machine);
  // The stored latest_predictions row (model_id 0 when NULL).
  struct Stored {
    int64_t window_start_ms = 0, model_id = 0;
    std::optional<double> probability;
    double anomaly_score = 0;
    std::optional<double> rul_hours;
  };
  Result<std::optional<Stored>> StoredLatest(const std::string& machine);
  // Every sensor's non-NULL window values in [from, to) ((*out)[s] for sensor s): the
  // anomaly baselines. With every > 0, only the windows in [t, t + run) for t a multiple
  // of every, and those runs cached in baseline_runs once complete (written rows drop
  // them: FeatureStore). Needs the scorer's write transaction (Begin).
  Status SensorValues(const std::string& machine, int64_t from_ms, int64_t to_ms, int64_t every_ms, int64_t run_ms,
                      std::vector<std::vector<double>>* out);
  // The model's newest prediction for the machine: probability and remaining useful life.
  struct Scored {
    double probability = 0;
    std::optional<double> rul_hours;
  };
  Result<std::optional<Scored>> NewestPrediction(const std::string& machine, int64_t model_id);
  Status PutLatest(const LatestPrediction& p);
  // alert_state: level per kind ("probability", "zone"); missing kinds are absent.
  Result<std::vector<std::pair<std::string, int>>> AlertLevels(const std::string& machine);
  Status PutAlertLevel(const std::string& machine, const std::string& kind, int level);

 private:
  explicit ScoringDb(ModelDb db) : db_(std::move(db)) {}
  ModelDb db_;
  std::vector<std::unique_ptr<Stmt>> stmts_;
  Stmt *rows_ = nullptr, *get_wm_ = nullptr, *get_rescore_ = nullptr, *del_rescore_ = nullptr,
       *stored_latest_ = nullptr, *put_wm_ = nullptr, *put_pred_ = nullptr, *newest_ = nullptr,
       *newest_pred_ = nullptr, *put_latest_ = nullptr, *get_level_ = nullptr, *put_level_ = nullptr,
       *span_values_ = nullptr, *get_runs_ = nullptr, *put_run_ = nullptr, *drop_old_runs_ = nullptr;
  size_t ncols_ = 0, nsensors_ = 0;
  std::string sensors_;  // the sensor fields, comma-separated: baseline_runs.sensors
};

}  // namespace vigil::store
