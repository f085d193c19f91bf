#include "store/schema.h"

namespace vigil::store {

std::string FeatureColumnList(const Config& c) {
  std::string cols;
  for (const SensorSpec& s : c.sensors) cols += ", " + s.field;
  for (const FeatureSpec& f : c.features) cols += ", " + f.name;
  return cols + ", label_failure_7d";
}

// fleet/fleet_train.py builds the same string: bump the layout version there too.
std::string Fingerprint(const Config& c) {
  std::string f = "v4 window=" + std::to_string(c.processing.window_ms) +
                  " horizon=" + std::to_string(c.processing.label_horizon_ms);
  for (const SensorSpec& s : c.sensors) f += " sensor=" + s.name + ":" + s.field;
  for (const FeatureSpec& x : c.features) {
    f += " feature=" + x.name + ":" + x.sensor + ":" + std::string(AggregateName(x.aggregate)) + ":" +
         std::to_string(x.duration_ms);
  }
  return f;
}

// The scorer's cache of its anomaly baseline's runs (model/scorer.cc): a complete run's
// window values per machine, [run_ms, end_ms), window by window one double per sensor of
// `sensors` (the sensor fields, comma-separated; NaN: NULL). FeatureStore's row writes
// drop the runs that end after the earliest row written, so a cached run holds what
// features holds as long as vigil is its writer. In both schemas: a rebuild's new file has
// it empty (never carried over), and a store the processor has not opened since gets it.
static const char* const kBaselineRuns =
    "CREATE TABLE IF NOT EXISTS baseline_runs(machine_id TEXT NOT NULL, run_ms INTEGER NOT NULL,"
    " end_ms INTEGER NOT NULL, sensors TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY(machine_id, run_ms)) WITHOUT ROWID;";

// Each machine's features rows by label_failure_7d (1, 0, NULL), kept by the processor in
// the batch's transaction (FeatureStore), so that `vigil status` need not count every row.
static const char* const kLabelCounts =
    "CREATE TABLE IF NOT EXISTS label_counts(machine_id TEXT PRIMARY KEY, ones INTEGER NOT NULL,"
    " zeros INTEGER NOT NULL, nulls INTEGER NOT NULL);";

// The count a "SELECT count(*) ..." returns.
static Result<int64_t> Count(Db& db, const std::string& sql) {
  Result<Stmt> q = db.Prepare(sql);
  if (!q) return q.error();
  Result<bool> row = q->Step();
  if (!row) return row.error();
  const int64_t n = q->Int(0);
  q->Reset();
  return n;
}

Status CreateProcessorTables(Db& db, const Config& config, const std::string& path) {
  // label_counts came after the other tables: a store made before it gets it filled from
  // features once, here (one scan; the processor keeps it up to date from then on).
  Result<int64_t> tables = Count(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('features', 'label_counts')");
  if (!tables) return tables.error();
  if (*tables == 1) {  // features without label_counts: the table and its rows in one transaction
    Status filled = db.Exec(std::string("BEGIN IMMEDIATE;") + kLabelCounts +
                            "INSERT INTO label_counts(machine_id, ones, zeros, nulls) SELECT machine_id,"
                            " sum(label_failure_7d IS 1), sum(label_failure_7d IS 0), sum(label_failure_7d IS NULL)"
                            " FROM features GROUP BY machine_id; COMMIT;");
    if (!filled.ok()) {
      (void)db.Exec("ROLLBACK");
      return filled;
    }
  }
  std::string cols;
  for (const SensorSpec& x : config.sensors) cols += ", " + x.field + " REAL";
  for (const FeatureSpec& x : config.features) cols += ", " + x.name + " REAL";
  cols += ", label_failure_7d INTEGER";
  // A narrow row is stored in the key's b-tree (no second lookup, no index copy of the key);
  // a wide one in a rowid table: SQLite advises WITHOUT ROWID only for rows under about a
  // 20th of a page, and past about 1 KB a row spills onto overflow pages that every seek
  // through the key's b-tree then reads (264 columns: from scratch 1.6-2x slower, the
  // database 1.8x larger). 20 columns of 9 bytes is about 200 of a 4 KiB page.
  const bool narrow = config.sensors.size() + config.features.size() + 1 <= 20;
  VIGIL_RETURN_IF_ERROR(db.Exec(
      "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      // Deduplicated readings, a chunk of time per row (store/feature_store.h), and the
      // persisted block partials of the rolling features (process/rolling.h). Chunks are a
      // rowid table: a WITHOUT ROWID b-tree compares whole records while it seeks, and a
      // chunk's 14 KB spill onto overflow pages that every seek then read (~35 pages each).
      "CREATE TABLE IF NOT EXISTS reading_chunks(machine_id TEXT NOT NULL, sensor TEXT NOT NULL, chunk_ms INTEGER NOT NULL,"
      " data BLOB NOT NULL, PRIMARY KEY(machine_id, sensor, chunk_ms));"
      // Each series' newest chunk (FeatureStore::Tail): a batch appends newer readings as a
      // chunk part without reading the chunk.
      "CREATE TABLE IF NOT EXISTS series_tails(machine_id TEXT NOT NULL, sensor TEXT NOT NULL, chunk_ms INTEGER NOT NULL,"
      " parts INTEGER NOT NULL, last_ms INTEGER NOT NULL, PRIMARY KEY(machine_id, sensor)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS block_partials(machine_id TEXT NOT NULL, sensor TEXT NOT NULL, block_ms INTEGER NOT NULL,"
      " start_ms INTEGER NOT NULL, n INTEGER NOT NULL, sum REAL, mean REAL, m2 REAL, min REAL, max REAL, last REAL,"
      " origin_ms INTEGER, mean_t REAL, m2_t REAL, c_tv REAL, PRIMARY KEY(machine_id, sensor, block_ms, start_ms)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS failure_history(machine_id TEXT NOT NULL, timestamp_ms INTEGER NOT NULL,"
      " event_code TEXT NOT NULL, PRIMARY KEY(machine_id, timestamp_ms, event_code)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS watermarks(machine_id TEXT PRIMARY KEY, watermark_ms INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS features(machine_id TEXT NOT NULL, window_start_ms INTEGER NOT NULL" + cols +
      ", PRIMARY KEY(machine_id, window_start_ms))" + (narrow ? " WITHOUT ROWID;" : ";") +
      "CREATE TABLE IF NOT EXISTS latest_features(machine_id TEXT PRIMARY KEY, window_start_ms INTEGER NOT NULL" + cols + ");"
      "CREATE TABLE IF NOT EXISTS batches(id INTEGER PRIMARY KEY, started_ms INTEGER, finished_ms INTEGER,"
      " segments INTEGER, lines INTEGER, readings INTEGER, duplicates INTEGER, failures INTEGER,"
      " bad_lines INTEGER, rows INTEGER, outcome TEXT);"
      "CREATE TABLE IF NOT EXISTS consumed_segments(path TEXT PRIMARY KEY, batch_id INTEGER NOT NULL);"
      // The earliest features row each machine's batches rewrote since the model stage last
      // scored it: late data and new failures change rows behind the scoring watermark.
      "CREATE TABLE IF NOT EXISTS rescore_from(machine_id TEXT PRIMARY KEY, from_ms INTEGER NOT NULL);" +
      kLabelCounts + kBaselineRuns));
  // A store made before the slope aggregate lacks its time moments. Adding the columns is
  // enough: a slope feature changes the fingerprint, so such a store is rebuilt before it
  // has one, and no other aggregate reads them.
  Result<int64_t> moments = Count(db, "SELECT count(*) FROM pragma_table_info('block_partials') WHERE name = 'c_tv'");
  if (!moments) return moments.error();
  if (*moments == 0) {
    for (const char* col : {"origin_ms INTEGER", "mean_t REAL", "m2_t REAL", "c_tv REAL"}) {
      VIGIL_RETURN_IF_ERROR(db.Exec(std::string("ALTER TABLE block_partials ADD COLUMN ") + col));
    }
  }
  // The schema fingerprint: features must never mix two configurations.
  const std::string fp = Fingerprint(config);
  Result<Stmt> q = db.Prepare("SELECT value FROM meta WHERE key = 'fingerprint'");
  if (!q) return q.error();
  std::string stored;
  Result<bool> row = q->Step();
  if (!row) return row.error();
  if (*row) stored = q->Text(0);
  q->Reset();
  if (stored.empty()) {
    VIGIL_RETURN_IF_ERROR(db.Exec("INSERT INTO meta(key, value) VALUES('fingerprint', " + Quoted(fp) + ")"));
  } else if (stored != fp) {
    return Status::InvalidArgument(
        path + " was built with another window, horizon, sensor or feature configuration, or by a vigil with "
        "another store layout (the leading v1, v2, ...):\n  stored:  " +
        stored + "\n  current: " + fp +
        "\nMixing them in one table would be wrong: rebuild it from the lake with `vigil reprocess --all` "
        "(same --config and --data-dir), or restore the previous configuration.");
  }
  return Status::Ok();
}

// Adds a column to a table of an existing store when it lacks it (CREATE TABLE IF NOT
// EXISTS leaves an older table as it was). Cheap: one pragma read per table and open.
static Status AddColumnIfMissing(Db& db, const std::string& table, const std::string& column, const std::string& type) {
  Result<int64_t> has = Count(db, "SELECT count(*) FROM pragma_table_info(" + Quoted(table) + ") WHERE name = " + Quoted(column));
  if (!has) return has.error();
  if (*has > 0) return Status::Ok();
  return db.Exec("ALTER TABLE " + table + " ADD COLUMN " + column + " " + type);
}

Status CreateModelTables(Db& db) {
  VIGIL_RETURN_IF_ERROR(db.Exec(
      "CREATE TABLE IF NOT EXISTS models(id INTEGER PRIMARY KEY, created_ms INTEGER NOT NULL, data_from_ms INTEGER,"
      " data_to_ms INTEGER, split_ms INTEGER, train_rows INTEGER, test_rows INTEGER, train_positives INTEGER,"
      " test_positives INTEGER, params TEXT, metrics TEXT, file TEXT, status TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS model_promotions(id INTEGER PRIMARY KEY, model_id INTEGER NOT NULL,"
      " promoted_ms INTEGER NOT NULL, rolled_back INTEGER NOT NULL DEFAULT 0);"
      "CREATE TABLE IF NOT EXISTS predictions(machine_id TEXT NOT NULL, window_start_ms INTEGER NOT NULL,"
      " model_id INTEGER NOT NULL, failure_probability_7d REAL NOT NULL, rul_hours REAL,"
      " PRIMARY KEY(machine_id, window_start_ms, model_id)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS latest_predictions(machine_id TEXT PRIMARY KEY, window_start_ms INTEGER NOT NULL,"
      " model_id INTEGER, failure_probability_7d REAL, anomaly_score REAL, rul_hours REAL);"
      "CREATE TABLE IF NOT EXISTS scored(machine_id TEXT NOT NULL, model_id INTEGER NOT NULL, until_ms INTEGER NOT NULL,"
      " PRIMARY KEY(machine_id, model_id)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS alerts(id INTEGER PRIMARY KEY, machine_id TEXT NOT NULL, ts_ms INTEGER NOT NULL,"
      " kind TEXT NOT NULL, level TEXT NOT NULL, value REAL, message TEXT NOT NULL, rul_hours REAL,"
      " published INTEGER NOT NULL DEFAULT 0);"  // 1 once the broker acknowledged it (model/outbox.h)
      "CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts(ts_ms);"
      "CREATE TABLE IF NOT EXISTS alert_state(machine_id TEXT NOT NULL, kind TEXT NOT NULL, level INTEGER NOT NULL,"
      " PRIMARY KEY(machine_id, kind)) WITHOUT ROWID;" +
      std::string(kBaselineRuns)));
  // rul_hours (remaining useful life, issue 19) came after these tables: a store made
  // before it gets the column, NULL in the rows scored before (no RUL model then).
  for (const char* table : {"predictions", "latest_predictions", "alerts"}) {
    VIGIL_RETURN_IF_ERROR(AddColumnIfMissing(db, table, "rul_hours", "REAL"));
  }
  return Status::Ok();
}

}  // namespace vigil::store
