// FeatureStore: the processor's writes to vigil.db (tables: store/schema.h). WAL mode; the
// processor writes one transaction per batch. Views for status and the API are in
// store/views.h, the CSV export in store/export.h, the rebuild's swaps in store/rebuild.h.
//
// Errors are Status values naming the SQL step. Not thread-safe: one per thread.
#pragma once

#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/db.h"
#include "store/records.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::store {

// One stored reading of a series (machine, sensor): the first received copy of its ms.
struct StoredReading {
  int64_t ts_ms = 0;
  double value = 0;
  int64_t received_ms = 0;
};

// A chunk has at most this many parts (FeatureStore::ReadChunk); a batch merges them into
// one when it would add another.
constexpr int kMaxChunkParts = 16;

// The left-to-right aggregate of one block of a sensor's window values (process/rolling.h).
struct BlockPartial {
  int64_t start_ms = 0;
  int64_t n = 0;
  double sum = 0, mean = 0, m2 = 0, min = 0, max = 0, last = 0;
  int64_t origin_ms = 0;                  // the time moments of the slope, and their origin
  double mean_t = 0, m2_t = 0, c_tv = 0;
};

// Rows by label_failure_7d (or changes of those counts): the label_counts table's values.
struct LabelCounts {
  int64_t ones = 0, zeros = 0, nulls = 0;
  void Add(std::optional<int> label, int64_t n) { (!label ? nulls : *label == 1 ? ones : zeros) += n; }
  bool operator==(const LabelCounts&) const = default;
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

  // A checkpoint copies the WAL into the database file in the background, on a connection
  // of its own (which syncs the WAL first, then the database file: the batches' commits are
  // not synced, store/db.h), so that the copy bounds the WAL and overlaps a batch's parse
  // instead of holding up the processor (a batch's WAL is tens of MB). The processor starts
  // one when a run opens the store (for the WAL the last run left) and after each commit
  // that another batch follows. Begin waits for it when this connection's last commit left
  // more than kCarriedWalBytes (the connection's carried bound) in the WAL, so that a large
  // batch's transaction starts the WAL over; a smaller WAL (such as the one an earlier run
  // left) takes the batch's frames after its own while it is copied, and the close's rule
  // bounds it. A failed checkpoint is reported by the next Begin (or lost with the object:
  // harmless, the next one copies the same WAL). Commit waits for it: a checkpoint copies
  // the commits made before it started, never the one that follows (a thread that started
  // late copied that one too, by timing), so a run's last commit is the next run's to copy.
  //
  // A run's last commit is not copied: the store's close leaves a WAL of up to
  // kCarriedWalBytes (db.h) for the next run's first checkpoint, beside that run's parse,
  // instead of copying and deleting it while the command waits. A larger WAL is copied at
  // the close by such a checkpoint (its writes gathered), then deleted by SQLite's close.
  void StartCheckpoint();
  void set_carried_wal_bytes(int64_t bytes) { db_.set_carried_wal_bytes(bytes); }  // tests: the bound without 16 MiB
  Status Begin();
  Status Commit();
  void Rollback();
  // A read transaction around many lookups (ConsumedBy): one snapshot, taken once, where
  // each statement alone would lock and unlock SQLite's shared memory and check the file.
  Status BeginRead() { return db_.Exec("BEGIN DEFERRED"); }
  void EndRead() { (void)db_.Exec("COMMIT"); }

  // The deduplicated readings of one series are kept in chunks (a fixed span of time, a
  // multiple of the window, at least kMaxChunkParts ms): a few rows per chunk rather than
  // one per reading, sorted by ts. A chunk's rows are its parts, part k stored at the key
  // chunk_ms + k: part 0 holds what a batch merged, later parts what later batches
  // appended, each newer than everything before it. An absent chunk reads as empty.
  // ReadChunk reads every part; *parts (if given) gets their number.
  Status ReadChunk(const std::string& machine_id, int sensor, int64_t chunk_ms, std::vector<StoredReading>* out,
                   int* parts = nullptr);
  // Writes the chunk as one part 0, dropping the other parts of the `parts` it had.
  Status WriteChunk(const std::string& machine_id, int sensor, int64_t chunk_ms, const std::vector<StoredReading>& rs,
                    int parts = 1);
  // Adds rs, all newer than every stored reading of the series, as the chunk's part `part`
  // (< kMaxChunkParts): nothing stored is read or written again.
  Status AppendChunkPart(const std::string& machine_id, int sensor, int64_t chunk_ms, int part,
                         const std::vector<StoredReading>& rs);
  // Appends the readings of the chunks with start in [from, to), in time order (to past
  // the last chunk's parts: a multiple of the chunk's span).
  Status ReadChunks(const std::string& machine_id, int sensor, int64_t from_ms, int64_t to_ms, std::vector<StoredReading>* out);
  // A series' newest chunk (series_tails), which tells a batch whether its readings are
  // newer than all stored ones without reading them. A series without a row there (a store
  // from before the table) gets it from its newest chunk row, read once: chunk_len is the
  // chunks' span. std::nullopt: no stored reading.
  struct SeriesTail {
    int64_t chunk_ms = 0;  // the newest chunk's start
    int parts = 0;         // its rows
    int64_t last_ms = 0;   // the series' newest stored reading
  };
  Result<std::optional<SeriesTail>> Tail(const std::string& machine_id, int sensor, int64_t chunk_len);
  Status SetTail(const std::string& machine_id, int sensor, const SeriesTail& tail);
  // *added: the event was not known yet.
  Status InsertFailure(const std::string& machine_id, int64_t ts_ms, const std::string& code, bool* added);
  Result<int64_t> Watermark(const std::string& machine_id);  // INT64_MIN when none
  Status SetWatermark(const std::string& machine_id, int64_t wm_ms);

  // features rows of a machine with window start in [from, to), ordered.
  Status Rows(const std::string& machine_id, int64_t from_ms, int64_t to_ms, std::vector<FeatureRow>* out);
  // Writing rows also drops the scorer's cached baseline runs (baseline_runs) that end
  // after the earliest of them, so a cached run holds what features holds.
  Status UpsertRow(const std::string& machine_id, const FeatureRow& row);
  // rows[from, to), several rows per statement (fewer statement steps). Every stored row
  // between the first and the last of them must be among them (the processor rewrites
  // whole ranges): label_counts takes the stored rows' labels in that span as replaced.
  Status UpsertRows(const std::string& machine_id, const std::vector<FeatureRow>& rows, size_t from, size_t to);
  // The newest window start of a machine, INT64_MIN when it has no row.
  Result<int64_t> LatestRow(const std::string& machine_id);
  // Persisted block partials of one sensor and block length, start in [from, to), ordered.
  Status ReadPartials(const std::string& machine_id, int sensor, int64_t block_ms, int64_t from_ms, int64_t to_ms,
                      std::vector<BlockPartial>* out);
  Status WritePartial(const std::string& machine_id, int sensor, int64_t block_ms, const BlockPartial& p);
  // Labels as range updates (contract §3), in SQLite, whatever the range's size. Failing:
  // rows in [from, to) get 1 (a failure follows within the horizon). Decided: the rows in
  // [from, to) still NULL get 1 when a stored failure lies in (t, t + H], else 0. Both
  // return the first row they changed (INT64_MAX: none).
  Result<int64_t> LabelFailing(const std::string& machine_id, int64_t from_ms, int64_t to_ms);
  Result<int64_t> LabelDecided(const std::string& machine_id, int64_t from_ms, int64_t to_ms);
  Status FailuresOf(const std::string& machine_id, std::vector<int64_t>* ts_ms);
  Status RefreshLatest(const std::string& machine_id);
  // Rows from from_ms on were (re)written: the model stage scores them again.
  Status MarkRescore(const std::string& machine_id, int64_t from_ms);

  // The batch that consumed a raw segment (path relative to the lake), 0 if none did.
  Result<int64_t> ConsumedBy(const std::string& segment);
  Status MarkConsumed(const std::string& segment, int64_t batch_id);
  // Deletes the consumed rows whose segment `keep` does not keep, a page of rows at a time
  // (a store from before the pruning holds a row for every segment it ever took).
  Status ForgetConsumed(const std::function<bool(const std::string& segment)>& keep);
  Result<int64_t> RecordBatch(const BatchRecord& b);

  // Replaces every row of these machines (features, latest_features, failure_history,
  // reading_chunks, series_tails, block_partials, watermarks, label_counts, ...) with the rows of the database at other_path, and adds its
  // consumed segments, in one transaction.
  Status ReplaceMachines(const std::string& other_path, const std::vector<std::string>& machines);

  // Every features row, ordered, as text (tests and comparisons).
  Status DumpFeatures(std::vector<std::string>* out);
  // The label_counts table (tests: it must match the features rows).
  Status ReadLabelCounts(std::map<std::string, LabelCounts>* out);

 private:
  FeatureStore(Db db, const Config& config, std::string path) : db_(std::move(db)), config_(config), path_(std::move(path)) {}
  Status Prepare();
  Status JoinCheckpoint();
  // This connection's last commit left more than the carried bound in the WAL.
  bool WalPastCarriedBound() const { return db_.WalBytes() > db_.carried_wal_bytes(); }
  void BindRow(Stmt* st, int first, const FeatureRow& row);  // window_start_ms, values, label from ?first
  Status PutRow(const std::string& machine_id, const FeatureRow& row);  // UpsertRow without the drop
  // label_counts: the stored rows of [from, to) by label, times sign, into *d; d added.
  Status CountStored(const std::string& machine_id, int64_t from_ms, int64_t to_ms, int64_t sign, LabelCounts* d);
  Status AddLabelCounts(const std::string& machine_id, const LabelCounts& d);
  struct Relabel {
    Stmt* update;
    std::optional<int> from, to;  // the label it replaces and the one it sets
  };
  Result<int64_t> UpdateLabels(Stmt& first, std::initializer_list<Relabel> updates, const std::string& machine_id,
                               int64_t from_ms, int64_t to_ms);

  Db db_;
  const Config config_;
  const std::string path_;
  std::thread checkpointer_;
  Status checkpointed_;  // its outcome, read after the join
  std::atomic<bool> checkpoint_done_{false};  // a join would not wait
  std::vector<std::unique_ptr<Stmt>> stmts_;
  size_t rows_per_insert_ = 1;  // within SQLite's 32,766 bound parameters
  Stmt *get_chunks_ = nullptr, *put_chunk_ = nullptr, *add_part_ = nullptr, *drop_parts_ = nullptr,
       *get_tail_ = nullptr, *put_tail_ = nullptr, *newest_chunk_ = nullptr, *put_failure_ = nullptr,
       *get_wm_ = nullptr, *put_wm_ = nullptr, *rows_ = nullptr, *latest_row_ = nullptr,
       *get_partials_ = nullptr, *put_partial_ = nullptr, *zero_to_one_ = nullptr, *null_to_one_ = nullptr,
       *decide_one_ = nullptr, *null_to_zero_ = nullptr, *range_labels_ = nullptr, *add_labels_ = nullptr,
       *first_failing_ = nullptr, *first_undecided_ = nullptr,
       *put_row_ = nullptr, *put_rows_ = nullptr, *failures_of_ = nullptr, *latest_del_ = nullptr, *latest_put_ = nullptr,
       *rescore_ = nullptr, *drop_runs_ = nullptr, *is_consumed_ = nullptr, *consume_ = nullptr, *consumed_page_ = nullptr,
       *forget_ = nullptr, *put_batch_ = nullptr;
};

}  // namespace vigil::store
