#include "store/feature_store.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include "store/schema.h"

namespace vigil::store {

constexpr size_t kConsumedPage = 4096;  // ForgetConsumed's rows in memory at a time

Result<std::unique_ptr<FeatureStore>> FeatureStore::Open(const std::string& path, const Config& config) {
  Result<Db> db = Db::Open(path, OpenMode::kProcessor);
  if (!db) return db.error().code() == StatusCode::kNotFound ? Status::IoError(db.error().message()) : db.error();
  VIGIL_RETURN_IF_ERROR(CreateProcessorTables(*db, config, path));
  // 8 MiB of page cache (kProcessorCacheKiB; SQLite's default is 2): a batch touches the
  // newest pages of every machine's features, chunks and partials, about 8 MB for 100
  // machines, and with 2 MB they were read from the file again and again (+1% at 10M: the
  // batch 180 -> 148 ms).
  VIGIL_RETURN_IF_ERROR(db->Exec("PRAGMA cache_size=-" + std::to_string(kProcessorCacheKiB)));
  std::unique_ptr<FeatureStore> s(new FeatureStore(std::move(*db), config, path));
  VIGIL_RETURN_IF_ERROR(s->Prepare());
  return s;
}

FeatureStore::~FeatureStore() {
  (void)JoinCheckpoint();
  // A WAL past the carried bound is copied here, in gathered writes, so that the close only
  // deletes it (SQLite's own close would copy it a page per write, as it does what a failed
  // copy here left).
  if (WalPastCarriedBound()) {
    StartCheckpoint();
    (void)JoinCheckpoint();
  }
  stmts_.clear();  // statements before the connection (whose close leaves a small WAL: db.h)
}

Status FeatureStore::Prepare() {
  auto prep = [&](const std::string& sql, Stmt** out) -> Status {
    Result<Stmt> st = db_.Prepare(sql, /*persistent=*/true);
    if (!st) return st.error();
    stmts_.push_back(std::make_unique<Stmt>(std::move(*st)));
    *out = stmts_.back().get();
    return Status::Ok();
  };
  const std::string cols = FeatureColumnList(config_);
  std::string marks;
  for (size_t i = 0; i < config_.sensors.size() + config_.features.size() + 1; ++i) marks += ", ?";
  const std::string parts_end = " + " + std::to_string(kMaxChunkParts);
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR REPLACE INTO reading_chunks(machine_id, sensor, chunk_ms, data) VALUES(?, ?, ?, ?)", &put_chunk_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT INTO reading_chunks(machine_id, sensor, chunk_ms, data) VALUES(?, ?, ?, ?)", &add_part_));
  VIGIL_RETURN_IF_ERROR(prep("DELETE FROM reading_chunks WHERE machine_id = ?1 AND sensor = ?2 AND chunk_ms > ?3"
                             " AND chunk_ms < ?3" + parts_end, &drop_parts_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT chunk_ms, parts, last_ms FROM series_tails WHERE machine_id = ? AND sensor = ?", &get_tail_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR REPLACE INTO series_tails(machine_id, sensor, chunk_ms, parts, last_ms) VALUES(?, ?, ?, ?, ?)", &put_tail_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT chunk_ms, data FROM reading_chunks WHERE machine_id = ? AND sensor = ? ORDER BY chunk_ms DESC LIMIT 1", &newest_chunk_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT data FROM reading_chunks WHERE machine_id = ? AND sensor = ? AND chunk_ms >= ? AND chunk_ms < ? ORDER BY chunk_ms", &get_chunks_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT max(window_start_ms) FROM features WHERE machine_id = ?", &latest_row_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT start_ms, n, sum, mean, m2, min, max, last, origin_ms, mean_t, m2_t, c_tv FROM block_partials WHERE machine_id = ? AND sensor = ? AND block_ms = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms", &get_partials_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR REPLACE INTO block_partials(machine_id, sensor, block_ms, start_ms, n, sum, mean, m2, min, max, last,"
                             " origin_ms, mean_t, m2_t, c_tv) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &put_partial_));
  const std::string range = " WHERE machine_id = ? AND window_start_ms >= ? AND window_start_ms < ?";
  const std::string failing = range + " AND label_failure_7d IS NOT 1";
  const std::string undecided = range + " AND label_failure_7d IS NULL";
  const std::string first = " ORDER BY window_start_ms LIMIT 1";
  VIGIL_RETURN_IF_ERROR(prep("SELECT window_start_ms FROM features" + failing + first, &first_failing_));
  // Each label update in two, by the value it replaces, so that label_counts can follow.
  VIGIL_RETURN_IF_ERROR(prep("UPDATE features SET label_failure_7d = 1" + range + " AND label_failure_7d = 0", &zero_to_one_));
  VIGIL_RETURN_IF_ERROR(prep("UPDATE features SET label_failure_7d = 1" + undecided, &null_to_one_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT window_start_ms FROM features" + undecided + first, &first_undecided_));
  VIGIL_RETURN_IF_ERROR(prep("UPDATE features SET label_failure_7d = 1" + undecided +
                             " AND EXISTS(SELECT 1 FROM failure_history f WHERE f.machine_id = features.machine_id"
                             " AND f.timestamp_ms > features.window_start_ms AND f.timestamp_ms <= features.window_start_ms + " +
                             std::to_string(config_.processing.label_horizon_ms) + ")", &decide_one_));
  VIGIL_RETURN_IF_ERROR(prep("UPDATE features SET label_failure_7d = 0" + undecided, &null_to_zero_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT label_failure_7d, count(*) FROM features" + range + " GROUP BY 1", &range_labels_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT INTO label_counts(machine_id, ones, zeros, nulls) VALUES(?1, ?2, ?3, ?4)"
                             " ON CONFLICT(machine_id) DO UPDATE SET ones = ones + ?2, zeros = zeros + ?3, nulls = nulls + ?4",
                             &add_labels_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR IGNORE INTO failure_history(machine_id, timestamp_ms, event_code) VALUES(?, ?, ?)", &put_failure_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT watermark_ms FROM watermarks WHERE machine_id = ?", &get_wm_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR REPLACE INTO watermarks(machine_id, watermark_ms) VALUES(?, ?)", &put_wm_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT window_start_ms" + cols + " FROM features WHERE machine_id = ? AND window_start_ms >= ? AND window_start_ms < ? ORDER BY window_start_ms", &rows_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR REPLACE INTO features(machine_id, window_start_ms" + cols + ") VALUES(?, ?" + marks + ")", &put_row_));
  // The rows of one statement share the machine: ?1, bound once (a text bind copies).
  const size_t values = 2 + config_.sensors.size() + config_.features.size();  // after machine_id
  rows_per_insert_ = std::clamp<size_t>(32'000 / values, 1, 32);
  std::string many;
  for (size_t i = 0, p = 2; i < rows_per_insert_; ++i) {
    many += i ? ", (?1" : "(?1";
    for (size_t v = 0; v < values; ++v) many += ", ?" + std::to_string(p++);
    many += ")";
  }
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR REPLACE INTO features(machine_id, window_start_ms" + cols + ") VALUES" + many, &put_rows_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT timestamp_ms FROM failure_history WHERE machine_id = ? ORDER BY timestamp_ms", &failures_of_));
  // The scorer's cached baseline runs that a row written at or after ?2 may change.
  // A run holding a row at t starts after t - its span: the bound on run_ms makes this a seek
  // to the machine's last runs, not a scan of them all (each run's end is in the row only).
  // A run of another span (a vigil with another kBaselineRunWindows) is one the scorer
  // ignores (predictions.cc).
  VIGIL_RETURN_IF_ERROR(prep("DELETE FROM baseline_runs WHERE machine_id = ?1 AND run_ms > ?2 - " +
                             std::to_string(kBaselineRunWindows * config_.processing.window_ms) + " AND end_ms > ?2", &drop_runs_));
  VIGIL_RETURN_IF_ERROR(prep("DELETE FROM latest_features WHERE machine_id = ?", &latest_del_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT INTO rescore_from(machine_id, from_ms) VALUES(?, ?) ON CONFLICT(machine_id)"
                             " DO UPDATE SET from_ms = min(from_ms, excluded.from_ms)", &rescore_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT INTO latest_features SELECT * FROM features WHERE machine_id = ? ORDER BY window_start_ms DESC LIMIT 1", &latest_put_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT batch_id FROM consumed_segments WHERE path = ?", &is_consumed_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT OR IGNORE INTO consumed_segments(path, batch_id) VALUES(?, ?)", &consume_));
  VIGIL_RETURN_IF_ERROR(prep("SELECT path FROM consumed_segments WHERE path > ? ORDER BY path LIMIT " + std::to_string(kConsumedPage), &consumed_page_));
  VIGIL_RETURN_IF_ERROR(prep("DELETE FROM consumed_segments WHERE path = ?", &forget_));
  VIGIL_RETURN_IF_ERROR(prep("INSERT INTO batches(started_ms, finished_ms, segments, lines, readings, duplicates, failures, bad_lines, rows, outcome) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &put_batch_));
  return Status::Ok();
}

Status FeatureStore::JoinCheckpoint() {
  if (checkpointer_.joinable()) checkpointer_.join();
  return std::exchange(checkpointed_, Status::Ok());  // also one that StartCheckpoint joined
}

void FeatureStore::StartCheckpoint() {
  if (checkpointer_.joinable()) {  // the run's first, still copying what an earlier run left
    checkpointer_.join();
    if (!checkpointed_.ok()) return;  // for the next Begin to report
  }
  std::error_code ec;
  if (std::filesystem::file_size(path_ + "-wal", ec) == 0 || ec) return;  // nothing to copy
  checkpoint_done_ = false;
  checkpointer_ = std::thread([this] {
    Result<Db> db = Db::Open(path_, OpenMode::kCheckpoint);
    Status st = db ? db->Exec("PRAGMA wal_checkpoint(PASSIVE)") : db.error();
    checkpointed_ = st.ok() ? st : Status::IoError("checkpoint of " + path_ + ": " + st.message());
    checkpoint_done_ = true;
  });
}

Status FeatureStore::Begin() {
  if (WalPastCarriedBound() || checkpoint_done_) VIGIL_RETURN_IF_ERROR(JoinCheckpoint());
  return db_.Exec("BEGIN IMMEDIATE");
}
// Unsynced (synchronous=NORMAL, store/db.h); what the VFS gathered after the commit frame is
// in the file before the archive step's SyncWal.
Status FeatureStore::Commit() {
  // Begun beside this transaction, the checkpoint is done by now but for a batch of a few
  // ms; its status stays for the next Begin.
  if (checkpointer_.joinable()) checkpointer_.join();
  VIGIL_RETURN_IF_ERROR(db_.Exec("COMMIT"));
  return db_.FlushWal();
}
void FeatureStore::Rollback() { (void)db_.Exec("ROLLBACK"); }

// A chunk part's blob: its readings as (ts_ms, value, received_ms) triples in the host's
// byte order (the database stays on its gateway; a rebuild from the lake makes a portable one).
namespace {
static_assert(sizeof(StoredReading) == 24, "chunk blobs are packed triples");

void AppendBlob(std::string_view blob, std::vector<StoredReading>* out) {
  const size_t at = out->size();
  out->resize(at + blob.size() / sizeof(StoredReading));
  std::memcpy(out->data() + at, blob.data(), (out->size() - at) * sizeof(StoredReading));
}

std::string_view BlobOf(const std::vector<StoredReading>& rs) {
  return {reinterpret_cast<const char*>(rs.data()), rs.size() * sizeof(StoredReading)};
}

}  // namespace

Status FeatureStore::ReadChunk(const std::string& machine_id, int sensor, int64_t chunk_ms, std::vector<StoredReading>* out,
                               int* parts) {
  out->clear();
  int n = 0;
  get_chunks_->Bind(1, machine_id).Bind(2, config_.sensors[sensor].name).Bind(3, chunk_ms).Bind(4, chunk_ms + kMaxChunkParts);
  VIGIL_RETURN_IF_ERROR(get_chunks_->ForEach([&](const Stmt& st) {
    AppendBlob(st.Blob(0), out);
    ++n;
  }));
  if (parts) *parts = n;
  return Status::Ok();
}

Status FeatureStore::WriteChunk(const std::string& machine_id, int sensor, int64_t chunk_ms, const std::vector<StoredReading>& rs,
                                int parts) {
  const std::string& name = config_.sensors[sensor].name;
  if (parts > 1) VIGIL_RETURN_IF_ERROR(drop_parts_->Bind(1, machine_id).Bind(2, name).Bind(3, chunk_ms).Run());
  return put_chunk_->Bind(1, machine_id).Bind(2, name).Bind(3, chunk_ms).BindBlob(4, BlobOf(rs)).Run();
}

Status FeatureStore::AppendChunkPart(const std::string& machine_id, int sensor, int64_t chunk_ms, int part,
                                     const std::vector<StoredReading>& rs) {
  if (part < 0 || part >= kMaxChunkParts) return Status::Internal("chunk part " + std::to_string(part) + " out of range");
  return add_part_->Bind(1, machine_id).Bind(2, config_.sensors[sensor].name).Bind(3, chunk_ms + part).BindBlob(4, BlobOf(rs)).Run();
}

Status FeatureStore::ReadChunks(const std::string& machine_id, int sensor, int64_t from_ms, int64_t to_ms,
                                std::vector<StoredReading>* out) {
  get_chunks_->Bind(1, machine_id).Bind(2, config_.sensors[sensor].name).Bind(3, from_ms).Bind(4, to_ms);
  return get_chunks_->ForEach([&](const Stmt& st) { AppendBlob(st.Blob(0), out); });
}

Result<std::optional<FeatureStore::SeriesTail>> FeatureStore::Tail(const std::string& machine_id, int sensor, int64_t chunk_len) {
  const std::string& name = config_.sensors[sensor].name;
  std::optional<SeriesTail> tail;
  get_tail_->Bind(1, machine_id).Bind(2, name);
  VIGIL_RETURN_IF_ERROR(get_tail_->ForEach([&](const Stmt& st) {
    tail = SeriesTail{st.Int(0), static_cast<int>(st.Int(1)), st.Int(2)};
  }));
  if (tail) return tail;
  newest_chunk_->Bind(1, machine_id).Bind(2, name);
  std::vector<StoredReading> rs;
  int64_t key = 0;
  VIGIL_RETURN_IF_ERROR(newest_chunk_->ForEach([&](const Stmt& st) {
    key = st.Int(0);
    AppendBlob(st.Blob(1), &rs);
  }));
  if (rs.empty()) return tail;
  const int64_t chunk = key - ((key % chunk_len) + chunk_len) % chunk_len;
  return std::optional<SeriesTail>(SeriesTail{chunk, static_cast<int>(key - chunk) + 1, rs.back().ts_ms});
}

Status FeatureStore::SetTail(const std::string& machine_id, int sensor, const SeriesTail& t) {
  return put_tail_->Bind(1, machine_id).Bind(2, config_.sensors[sensor].name).Bind(3, t.chunk_ms).Bind(4, int64_t{t.parts})
      .Bind(5, t.last_ms).Run();
}

Status FeatureStore::InsertFailure(const std::string& machine_id, int64_t ts_ms, const std::string& code, bool* added) {
  VIGIL_RETURN_IF_ERROR(put_failure_->Bind(1, machine_id).Bind(2, ts_ms).Bind(3, code).Run());
  *added = db_.Changes() > 0;
  return Status::Ok();
}

Result<int64_t> FeatureStore::Watermark(const std::string& machine_id) {
  get_wm_->Bind(1, machine_id);
  Result<bool> row = get_wm_->Step();
  if (!row) return row.error();
  if (!*row) return INT64_MIN;
  int64_t v = get_wm_->Int(0);
  get_wm_->Reset();
  return v;
}

Status FeatureStore::SetWatermark(const std::string& machine_id, int64_t wm_ms) {
  return put_wm_->Bind(1, machine_id).Bind(2, wm_ms).Run();
}

Status FeatureStore::Rows(const std::string& machine_id, int64_t from_ms, int64_t to_ms, std::vector<FeatureRow>* out) {
  out->clear();
  const int ns = static_cast<int>(config_.sensors.size()), nf = static_cast<int>(config_.features.size());
  rows_->Bind(1, machine_id).Bind(2, from_ms).Bind(3, to_ms);
  return rows_->ForEach([&](const Stmt& st) {
    FeatureRow r;
    r.window_start_ms = st.Int(0);
    for (int i = 0; i < ns; ++i) r.sensor_values.push_back(st.OptDouble(1 + i));
    for (int i = 0; i < nf; ++i) r.features.push_back(st.OptDouble(1 + ns + i));
    if (!st.IsNull(1 + ns + nf)) r.label = static_cast<int>(st.Int(1 + ns + nf));
    out->push_back(std::move(r));
  });
}

void FeatureStore::BindRow(Stmt* st, int first, const FeatureRow& row) {
  st->Bind(first, row.window_start_ms);
  int i = first + 1;
  for (const auto& v : row.sensor_values) st->Bind(i++, v);
  for (const auto& v : row.features) st->Bind(i++, v);
  if (row.label) st->Bind(i, static_cast<int64_t>(*row.label));
  else st->BindNull(i);
}

Status FeatureStore::UpsertRow(const std::string& machine_id, const FeatureRow& row) {
  VIGIL_RETURN_IF_ERROR(drop_runs_->Bind(1, machine_id).Bind(2, row.window_start_ms).Run());
  LabelCounts d;
  VIGIL_RETURN_IF_ERROR(CountStored(machine_id, row.window_start_ms, row.window_start_ms + 1, -1, &d));
  d.Add(row.label, 1);
  VIGIL_RETURN_IF_ERROR(PutRow(machine_id, row));
  return AddLabelCounts(machine_id, d);
}

Status FeatureStore::CountStored(const std::string& machine_id, int64_t from_ms, int64_t to_ms, int64_t sign, LabelCounts* d) {
  range_labels_->Bind(1, machine_id).Bind(2, from_ms).Bind(3, to_ms);
  return range_labels_->ForEach([&](const Stmt& st) {
    d->Add(st.IsNull(0) ? std::nullopt : std::optional<int>(static_cast<int>(st.Int(0))), sign * st.Int(1));
  });
}

Status FeatureStore::AddLabelCounts(const std::string& machine_id, const LabelCounts& d) {
  if (d.ones == 0 && d.zeros == 0 && d.nulls == 0) return Status::Ok();
  return add_labels_->Bind(1, machine_id).Bind(2, d.ones).Bind(3, d.zeros).Bind(4, d.nulls).Run();
}

Status FeatureStore::PutRow(const std::string& machine_id, const FeatureRow& row) {
  put_row_->Bind(1, machine_id);
  BindRow(put_row_, 2, row);
  return put_row_->Run();
}

Status FeatureStore::UpsertRows(const std::string& machine_id, const std::vector<FeatureRow>& rows, size_t from, size_t to) {
  if (from >= to) return Status::Ok();
  int64_t first = INT64_MAX, last = INT64_MIN;
  LabelCounts d;
  for (size_t i = from; i < to; ++i) {
    first = std::min(first, rows[i].window_start_ms);
    last = std::max(last, rows[i].window_start_ms);
    d.Add(rows[i].label, 1);
  }
  VIGIL_RETURN_IF_ERROR(drop_runs_->Bind(1, machine_id).Bind(2, first).Run());
  // The stored rows between the first and the last are all rewritten (see the header):
  // their labels leave the counts, the new rows' come in.
  VIGIL_RETURN_IF_ERROR(CountStored(machine_id, first, last + 1, -1, &d));
  VIGIL_RETURN_IF_ERROR(AddLabelCounts(machine_id, d));
  const int values = static_cast<int>(2 + config_.sensors.size() + config_.features.size());
  for (; to - from >= rows_per_insert_; from += rows_per_insert_) {
    put_rows_->Bind(1, machine_id);
    for (size_t k = 0; k < rows_per_insert_; ++k) BindRow(put_rows_, 2 + static_cast<int>(k) * values, rows[from + k]);
    VIGIL_RETURN_IF_ERROR(put_rows_->Run());
  }
  for (; from < to; ++from) VIGIL_RETURN_IF_ERROR(PutRow(machine_id, rows[from]));
  return Status::Ok();
}

Result<int64_t> FeatureStore::LatestRow(const std::string& machine_id) {
  int64_t latest = INT64_MIN;
  latest_row_->Bind(1, machine_id);
  VIGIL_RETURN_IF_ERROR(latest_row_->ForEach([&](const Stmt& st) {
    if (!st.IsNull(0)) latest = st.Int(0);
  }));
  return latest;
}

Status FeatureStore::ReadPartials(const std::string& machine_id, int sensor, int64_t block_ms, int64_t from_ms,
                                  int64_t to_ms, std::vector<BlockPartial>* out) {
  out->clear();
  get_partials_->Bind(1, machine_id).Bind(2, config_.sensors[sensor].name).Bind(3, block_ms).Bind(4, from_ms).Bind(5, to_ms);
  return get_partials_->ForEach([&](const Stmt& st) {
    out->push_back({st.Int(0), st.Int(1), st.Double(2), st.Double(3), st.Double(4), st.Double(5), st.Double(6), st.Double(7),
                    st.Int(8), st.Double(9), st.Double(10), st.Double(11)});
  });
}

Status FeatureStore::WritePartial(const std::string& machine_id, int sensor, int64_t block_ms, const BlockPartial& p) {
  return put_partial_->Bind(1, machine_id).Bind(2, config_.sensors[sensor].name).Bind(3, block_ms).Bind(4, p.start_ms)
      .Bind(5, p.n).Bind(6, std::optional<double>(p.sum)).Bind(7, std::optional<double>(p.mean))
      .Bind(8, std::optional<double>(p.m2)).Bind(9, std::optional<double>(p.min)).Bind(10, std::optional<double>(p.max))
      .Bind(11, std::optional<double>(p.last)).Bind(12, p.origin_ms).Bind(13, std::optional<double>(p.mean_t))
      .Bind(14, std::optional<double>(p.m2_t)).Bind(15, std::optional<double>(p.c_tv)).Run();
}

// The first row a label update changes (an ordered probe), then the updates from there on,
// each counted out of the label it replaces and into the one it sets. An UPDATE ...
// RETURNING would hand back every changed row (a failure's horizon may hold hundreds of
// thousands) to keep only the first, at about the cost of the update itself.
Result<int64_t> FeatureStore::UpdateLabels(Stmt& first, std::initializer_list<Relabel> updates, const std::string& machine_id,
                                           int64_t from_ms, int64_t to_ms) {
  int64_t t = INT64_MAX;
  VIGIL_RETURN_IF_ERROR(first.Bind(1, machine_id).Bind(2, from_ms).Bind(3, to_ms).ForEach([&](const Stmt& row) { t = row.Int(0); }));
  if (t == INT64_MAX) return t;
  LabelCounts d;
  for (const Relabel& u : updates) {
    VIGIL_RETURN_IF_ERROR(u.update->Bind(1, machine_id).Bind(2, t).Bind(3, to_ms).Run());
    const int64_t n = db_.Changes();
    d.Add(u.from, -n);
    d.Add(u.to, n);
  }
  VIGIL_RETURN_IF_ERROR(AddLabelCounts(machine_id, d));
  return t;
}

Result<int64_t> FeatureStore::LabelFailing(const std::string& machine_id, int64_t from_ms, int64_t to_ms) {
  return UpdateLabels(*first_failing_, {{zero_to_one_, 0, 1}, {null_to_one_, std::nullopt, 1}}, machine_id, from_ms, to_ms);
}

Result<int64_t> FeatureStore::LabelDecided(const std::string& machine_id, int64_t from_ms, int64_t to_ms) {
  return UpdateLabels(*first_undecided_, {{decide_one_, std::nullopt, 1}, {null_to_zero_, std::nullopt, 0}}, machine_id,
                      from_ms, to_ms);
}

Status FeatureStore::FailuresOf(const std::string& machine_id, std::vector<int64_t>* ts_ms) {
  ts_ms->clear();
  failures_of_->Bind(1, machine_id);
  return failures_of_->ForEach([&](const Stmt& st) { ts_ms->push_back(st.Int(0)); });
}

Status FeatureStore::RefreshLatest(const std::string& machine_id) {
  VIGIL_RETURN_IF_ERROR(latest_del_->Bind(1, machine_id).Run());
  return latest_put_->Bind(1, machine_id).Run();
}

Status FeatureStore::MarkRescore(const std::string& machine_id, int64_t from_ms) {
  return rescore_->Bind(1, machine_id).Bind(2, from_ms).Run();
}

Result<int64_t> FeatureStore::ConsumedBy(const std::string& segment) {
  is_consumed_->Bind(1, segment);
  Result<bool> row = is_consumed_->Step();
  if (!row) return row.error();
  if (!*row) return int64_t{0};
  const int64_t batch = is_consumed_->Int(0);
  is_consumed_->Reset();
  return batch;
}

Status FeatureStore::MarkConsumed(const std::string& segment, int64_t batch_id) {
  return consume_->Bind(1, segment).Bind(2, batch_id).Run();
}

Status FeatureStore::ForgetConsumed(const std::function<bool(const std::string& segment)>& keep) {
  std::string after;  // the last path of the page before
  std::vector<std::string> page;
  do {
    page.clear();
    VIGIL_RETURN_IF_ERROR(consumed_page_->Bind(1, after).ForEach([&](const Stmt& st) { page.push_back(st.Text(0)); }));
    for (const std::string& path : page) {
      if (!keep(path)) VIGIL_RETURN_IF_ERROR(forget_->Bind(1, path).Run());
    }
    if (!page.empty()) after = page.back();
  } while (page.size() == kConsumedPage);
  return Status::Ok();
}

Result<int64_t> FeatureStore::RecordBatch(const BatchRecord& b) {
  VIGIL_RETURN_IF_ERROR(put_batch_->Bind(1, b.started_ms).Bind(2, b.finished_ms).Bind(3, b.segments).Bind(4, b.lines)
                            .Bind(5, b.readings).Bind(6, b.duplicates).Bind(7, b.failures).Bind(8, b.bad_lines)
                            .Bind(9, b.rows).Bind(10, b.outcome).Run());
  return db_.LastInsertId();
}

Status FeatureStore::ReadLabelCounts(std::map<std::string, LabelCounts>* out) {
  out->clear();
  Result<Stmt> st = db_.Prepare("SELECT machine_id, ones, zeros, nulls FROM label_counts");
  if (!st) return st.error();
  return st->ForEach([&](const Stmt& row) { (*out)[row.Text(0)] = {row.Int(1), row.Int(2), row.Int(3)}; });
}

Status FeatureStore::DumpFeatures(std::vector<std::string>* out) {
  out->clear();
  Result<Stmt> st = db_.Prepare("SELECT machine_id, window_start_ms" + FeatureColumnList(config_) +
                                " FROM features ORDER BY machine_id, window_start_ms");
  if (!st) return st.error();
  return st->ForEach([&](const Stmt& row) {
    std::string line;
    for (int i = 0; i < row.Columns(); ++i) {
      if (i) line += "|";
      switch (row.TypeOf(i)) {
        case Stmt::Type::kNull: line += "NULL"; break;
        case Stmt::Type::kFloat: {
          char buf[40];
          std::snprintf(buf, sizeof buf, "%.17g", row.Double(i));
          line += buf;
          break;
        }
        default: line += row.Text(i);
      }
    }
    out->push_back(std::move(line));
  });
}

}  // namespace vigil::store
