// FeatureStore: the SQLite database <data_dir>/vigil.db (the only code that includes
// sqlite3.h). WAL mode; the processor writes one transaction per batch.
//
// Tables (contract §3, plus the processor's state):
//   features(machine_id, window_start_ms, <sensor fields>..., <features>..., label_failure_7d)
//   latest_features(machine_id PK, same columns)      newest features row per machine
//   failure_history(machine_id, timestamp_ms, event_code)
//   readings(machine_id, sensor, ts_ms, value, rank)  deduplicated readings; rank orders
//       "first received": "<received ms, 13 digits>|<segment>|<line, 9 digits>"
//   watermarks(machine_id PK, watermark_ms)           latest reading or event time seen
//   batches(id, started_ms, finished_ms, segments, lines, readings, duplicates, failures,
//           bad_lines, rows, outcome)
//   consumed_segments(path PK, batch_id)               raw segments a committed batch took
//   meta(key PK, value)                                schema fingerprint of the config
//
// Errors are Status values naming the SQL step. Not thread-safe: one per thread.
#pragma once

#include <climits>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/prediction.h"
#include "vigil/config.h"
#include "vigil/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace vigil::store {

class Stmt;

struct Reading {
  std::string machine_id;
  int sensor = 0;  // index into config.sensors
  int64_t ts_ms = 0;
  double value = 0;
  std::string rank;
};

struct FeatureRow {
  int64_t window_start_ms = 0;
  std::vector<std::optional<double>> sensor_values;  // config.sensors order
  std::vector<std::optional<double>> features;       // config.features order
  std::optional<int> label;
};

struct BatchRecord {
  int64_t started_ms = 0, finished_ms = 0;
  int64_t segments = 0, lines = 0, readings = 0, duplicates = 0, failures = 0, bad_lines = 0, rows = 0;
  std::string outcome;
};

class FeatureStore {
 public:
  // Opens (creating if needed) the database and checks that its schema fingerprint matches
  // the configuration (kInvalidArgument with what to do when it does not).
  static Result<std::unique_ptr<FeatureStore>> Open(const std::string& path, const Config& config);
  ~FeatureStore();

  Status Begin();
  Status Commit();
  void Rollback();

  // Inserts or, when `rank` is earlier than the stored one, replaces a reading.
  // *changed: the stored value for the key is new or different.
  Status UpsertReading(const Reading& r, bool* changed, bool* duplicate);
  // *added: the event was not known yet.
  Status InsertFailure(const std::string& machine_id, int64_t ts_ms, const std::string& code, bool* added);
  Result<int64_t> Watermark(const std::string& machine_id);  // INT64_MIN when none
  Status SetWatermark(const std::string& machine_id, int64_t wm_ms);

  // Readings of one sensor in [from, to), ordered by ts.
  Status ReadingsIn(const std::string& machine_id, int sensor, int64_t from_ms, int64_t to_ms,
                    std::vector<double>* values);
  // features rows of a machine with window start in [from, to), ordered.
  Status Rows(const std::string& machine_id, int64_t from_ms, int64_t to_ms, std::vector<FeatureRow>* out);
  Status UpsertRow(const std::string& machine_id, const FeatureRow& row);
  Status FailuresOf(const std::string& machine_id, std::vector<int64_t>* ts_ms);
  Status RefreshLatest(const std::string& machine_id);
  // Rows from from_ms on were (re)written: the model stage scores them again.
  Status MarkRescore(const std::string& machine_id, int64_t from_ms);

  // The batch that consumed a raw segment (path relative to the lake), 0 if none did.
  Result<int64_t> ConsumedBy(const std::string& segment);
  Status MarkConsumed(const std::string& segment, int64_t batch_id);
  Result<int64_t> RecordBatch(const BatchRecord& b);

  // Replaces every row of these machines (features, latest_features, failure_history,
  // readings, watermarks) with the rows of the database at other_path, and adds its
  // consumed segments, in one transaction.
  Status ReplaceMachines(const std::string& other_path, const std::vector<std::string>& machines);

  // Every features row, ordered, as text (tests and comparisons).
  Status DumpFeatures(std::vector<std::string>* out);

 private:
  FeatureStore(sqlite3* db, const Config& config);
  Status Exec(const std::string& sql);
  Status Prepare();

  sqlite3* db_;
  const Config config_;
  std::vector<std::unique_ptr<Stmt>> stmts_;
  Stmt *get_reading_ = nullptr, *put_reading_ = nullptr, *put_failure_ = nullptr,
       *get_wm_ = nullptr, *put_wm_ = nullptr, *readings_in_ = nullptr, *rows_ = nullptr,
       *put_row_ = nullptr, *failures_of_ = nullptr, *latest_del_ = nullptr, *latest_put_ = nullptr,
       *rescore_ = nullptr, *is_consumed_ = nullptr, *consume_ = nullptr, *put_batch_ = nullptr;
};

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
};
struct StoreStatus {
  std::vector<MachineStatus> machines;
  int64_t batches = 0;
  std::optional<BatchRecord> last_batch;
};
// label_counts: also count labels per machine (scans all of `features`: for `vigil status`,
// not for the dashboard's polling).
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
  std::vector<model::Alert> alerts;                        // in the range, by time
};
Result<Series> ReadSeries(const std::string& db_path, const Config& config, const SeriesQuery& q);
// The newest `limit` alerts, of one machine or (machine_id "") all; none before the model
// stage has made its table.
std::vector<model::Alert> ReadAlerts(const std::string& db_path, const std::string& machine_id, int64_t limit);

// Atomically puts the database at from_path in place of to_path (both closed): both are
// switched out of WAL mode first, so no stale -wal file can meet the new database.
Status ReplaceDatabase(const std::string& from_path, const std::string& to_path);
// Copies into to_path every table (with its rows) and index of from_path that to_path
// does not have: what `vigil reprocess --all` keeps of the model stage (models, alerts, ...).
Status CarryOverTables(const std::string& from_path, const std::string& to_path);

struct ExportQuery {
  std::string table = "features";  // features | latest_features | failure_history
  bool labelled_only = true;       // features: rows with a known label only
  int64_t from_ms = INT64_MIN;     // window start / event time, inclusive
  int64_t until_ms = INT64_MAX;    // exclusive
  std::vector<std::string> machines;  // empty = all
};

// Streams a table as CSV (header, ISO-8601 UTC times, empty cells for NULL) to out.
// Returns the number of data rows. Opens the database read-only.
Result<int64_t> ExportCsv(const std::string& db_path, const Config& config, const ExportQuery& q,
                          std::FILE* out);

// The schema fingerprint of a configuration: window, horizon, sensors, features.
std::string Fingerprint(const Config& config);

}  // namespace vigil::store
