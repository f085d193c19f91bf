// The schema of every table in vigil.db, in one place.
//
// Processor tables (created by FeatureStore::Open, checked against the configuration):
//   features(machine_id, window_start_ms, <sensor fields>..., <features>..., label_failure_7d)
//   latest_features(machine_id PK, same columns)      newest features row per machine
//   failure_history(machine_id, timestamp_ms, event_code)
//   reading_chunks(machine_id, sensor, chunk_ms, data) deduplicated readings, packed;
//       a chunk's part k at chunk_ms + k (FeatureStore::ReadChunk)
//   series_tails(machine_id, sensor, chunk_ms, parts, last_ms)  each series' newest chunk
//   block_partials(machine_id, sensor, block_ms, start_ms, ...)  rolling partials
//   watermarks(machine_id PK, watermark_ms)           latest reading or event time seen
//   batches(id, started_ms, finished_ms, segments, lines, readings, duplicates, failures,
//           bad_lines, rows, outcome)
//   consumed_segments(path PK, batch_id)               raw segments a committed batch took
//   rescore_from(machine_id PK, from_ms)               rows rewritten behind the scoring
//   label_counts(machine_id PK, ones, zeros, nulls)    features rows by label, kept by
//       the processor (FeatureStore) in each batch's transaction
//   meta(key PK, value)                                schema fingerprint of the config
//   baseline_runs(machine_id, run_ms, end_ms, sensors, data)  the scorer's cached
//       anomaly-baseline runs (in both schemas, schema.cc)
// Model-stage tables (created when the model stage first opens the file: a rebuild's new
// file lacks them, which is how CarryOverTables knows to copy them over):
//   models, model_promotions, predictions, latest_predictions, scored, alerts, alert_state
#pragma once

#include <string>

#include "store/db.h"
#include "vigil/config.h"

namespace vigil::store {

// A cached baseline run (baseline_runs) spans this many windows (model/scorer.cc): the
// processor drops the runs a written row falls in by a seek to the first that can hold it.
constexpr int64_t kBaselineRunWindows = 32;

// Creates the processor tables if missing and checks the schema fingerprint
// (kInvalidArgument with what to do when it does not match). path: for the message.
Status CreateProcessorTables(Db& db, const Config& config, const std::string& path);
Status CreateModelTables(Db& db);

// The schema fingerprint of a configuration: window, horizon, sensors, features.
std::string Fingerprint(const Config& config);

// ", <sensor fields>, <features>, label_failure_7d": the features table's value columns.
std::string FeatureColumnList(const Config& config);

}  // namespace vigil::store
