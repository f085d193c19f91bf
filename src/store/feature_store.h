// FeatureStore: the processor's writes to vigil.db (tables: store/schema.h). WAL mode; the
// processor writes one transaction per batch. Views for status and the API are in
// store/views.h, the CSV export in store/export.h, the rebuild's swaps in store/rebuild.h.
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

#include "store/db.h"
#include "store/records.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::store {

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
  FeatureStore(Db db, const Config& config) : db_(std::move(db)), config_(config) {}
  Status Prepare();

  Db db_;
  const Config config_;
  std::vector<std::unique_ptr<Stmt>> stmts_;
  Stmt *get_reading_ = nullptr, *put_reading_ = nullptr, *put_failure_ = nullptr,
       *get_wm_ = nullptr, *put_wm_ = nullptr, *readings_in_ = nullptr, *rows_ = nullptr,
       *put_row_ = nullptr, *failures_of_ = nullptr, *latest_del_ = nullptr, *latest_put_ = nullptr,
       *rescore_ = nullptr, *is_consumed_ = nullptr, *consume_ = nullptr, *put_batch_ = nullptr;
};

}  // namespace vigil::store
