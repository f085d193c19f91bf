#include "process/batch.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <climits>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <utility>
#include <map>
#include <optional>
#include <set>

#include "common/dir_lock.h"
#include "common/huge_pages.h"
#include "common/data_paths.h"
#include "common/logging.h"
#include "common/timestamp.h"
#include "lake/jsonl_writer.h"
#include "lake/archive.h"
#include "lake/lake_reader.h"
#include "lake/paths.h"
#include "process/readings.h"
#include "process/rolling.h"
#include "store/rebuild.h"

namespace vigil::process {
namespace {

// A batch applies its readings a part at a time (all in its one transaction), so that its
// memory is bounded whatever the size of its segments: at most kPartReadings. A part also
// ends after kPartMinReadings at the end of a segment when the next one is another
// partition's (date, machine), so that the parser fills the next part while this one is
// applied (a machine split across parts would have its rows computed twice); small, so that
// a routine batch's first part is applied early (16 Ki readings: +1% at 10M 0.32 -> 0.28 s).
// While the applier waits for work (a batch's start), a part ends at every such boundary.
constexpr size_t kPartReadings = size_t{1} << 20;
constexpr size_t kPartMinReadings = size_t{1} << 14;

// One parsed reading; machines are interned per batch.
struct Reading {
  uint32_t machine;
  uint32_t sensor;
  store::StoredReading r;
};

// A part's readings: up to kPartReadings x 32 bytes, reserved whole, touched as they come.
using Readings = std::vector<Reading, HugePageAllocator<Reading>>;

struct Event {
  uint32_t machine;
  int64_t ts_ms;
  std::string code;
};

struct Range {
  int64_t lo, hi;  // [lo, hi)
};

// The published segments of raw/, in ListSegments' order.
Result<std::vector<lake::SegmentFile>> ListRaw(const std::string& lake_dir) {
  lake::LakeFilter filter;
  filter.archive = false;
  return lake::ListSegments(lake_dir, filter);
}

// Sorts and merges overlapping ranges, or ranges closer than `slack`, in place.
void Merge(std::vector<Range>* rs, int64_t slack) {
  std::sort(rs->begin(), rs->end(), [](const Range& a, const Range& b) { return a.lo < b.lo; });
  std::vector<Range> out;
  for (const Range& r : *rs) {
    if (!out.empty() && r.lo <= out.back().hi + slack) out.back().hi = std::max(out.back().hi, r.hi);
    else out.push_back(r);
  }
  *rs = std::move(out);
}

// A window value of one sensor that a part changed.
struct WindowValue {
  int64_t window_ms;
  uint32_t sensor;
  double mean;
};

store::BlockPartial ToStored(int64_t start, const Agg& a) {
  return {start, a.n, a.sum, a.mean, a.m2, a.min, a.max, a.last, a.origin_ms, a.mean_t, a.m2_t, a.c_tv};
}
Agg FromStored(const store::BlockPartial& p) {
  Agg a;
  a.n = p.n, a.sum = p.sum, a.mean = p.mean, a.m2 = p.m2, a.min = p.min, a.max = p.max, a.last = p.last;
  a.origin_ms = p.origin_ms, a.mean_t = p.mean_t, a.m2_t = p.m2_t, a.c_tv = p.c_tv;
  return a;
}

}  // namespace

Processor::Processor(const Config& config, Clock& clock, lake::FileSystem& fs)
    : config_(config), clock_(clock), fs_(fs) {}
Processor::~Processor() { (void)JoinArchiver(); }

Status Processor::JoinArchiver() {
  if (!archiver_.joinable()) return Status::Ok();
  archiver_.join();
  archiving_.clear();
  return std::exchange(archived_, Status::Ok());
}

Result<RunSummary> Processor::RunPending(const std::atomic<bool>* stop, const std::function<void()>& alongside) {
  Result<DirLock> lock = DirLock::Acquire(ProcessLockPath(config_.data_dir), "a vigil processor");
  if (!lock) return lock.error();
  // The first batch's listing of raw/ runs beside the store's open (each 2.5-4 ms of a
  // routine run's ~130 on two cores).
  listed_ahead_ = std::async(std::launch::async, [dir = lake::LakeDir(config_.data_dir)] { return ListRaw(dir); });
  Result<std::unique_ptr<store::FeatureStore>> db = store::FeatureStore::Open(data_paths::Database(config_.data_dir), config_);
  if (!db) {
    listed_ahead_ = {};  // waits for it
    return db.error();
  }
  return RunAll(**db, stop, alongside);
}

Result<RunSummary> Processor::RunAll(store::FeatureStore& db, const std::atomic<bool>* stop,
                                     const std::function<void()>& alongside) {
  if (!rebuild_) VIGIL_RETURN_IF_ERROR(lake::ClearStaging(fs_, lake::LakeDir(config_.data_dir)));
  db.StartCheckpoint();  // the WAL of the last run's last commit, beside this run's first parse
  // The trash of the last run's archive steps is deleted beside this run's batches.
  Status emptied;
  std::thread emptier([&] { emptied = lake::EmptyTrash(fs_, lake::LakeDir(config_.data_dir)); });
  Result<RunSummary> summary = RunBatches(db, stop);
  listed_ahead_ = {};  // a listing that no batch took (a stop) is never taken later
  if (summary && alongside) alongside();
  Status archived = JoinArchiver();  // also after a failed batch: the committed ones' moves
  emptier.join();
  if (summary && !archived.ok()) return archived;
  if (summary && !emptied.ok()) return emptied;
  return summary;
}

Result<RunSummary> Processor::RunBatches(store::FeatureStore& db, const std::atomic<bool>* stop) {
  RunSummary summary;
  while (!(stop && *stop)) {
    store::BatchRecord rec;
    Result<bool> more = RunBatch(db, &rec);
    if (!more) return more.error();
    if (rec.segments == 0) break;
    summary.batches++;
    auto& t = summary.totals;
    t.segments += rec.segments, t.lines += rec.lines, t.readings += rec.readings;
    t.duplicates += rec.duplicates, t.failures += rec.failures, t.bad_lines += rec.bad_lines, t.rows += rec.rows;
    if (!*more) break;
  }
  if (stop && *stop) return Status::Unavailable("stopped before the end");
  return summary;
}

Result<RunSummary> Processor::Reprocess(const std::vector<std::string>& machines, const std::atomic<bool>* stop) {
  Result<DirLock> lock = DirLock::Acquire(ProcessLockPath(config_.data_dir), "a vigil processor");
  if (!lock) return lock.error();
  const std::string target = data_paths::Database(config_.data_dir), tmp = data_paths::RebuildDatabase(config_.data_dir);
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::remove((tmp + suffix).c_str());
  rebuild_ = true;
  only_machines_ = std::set<std::string>(machines.begin(), machines.end());
  lake::LakeFilter filter;
  filter.machines = only_machines_;
  rebuild_cursor_ = std::make_unique<lake::SegmentCursor>(lake::LakeDir(config_.data_dir), filter);
  Result<RunSummary> summary = [&]() -> Result<RunSummary> {
    Result<std::unique_ptr<store::FeatureStore>> db = store::FeatureStore::Open(tmp, config_);
    if (!db) return db.error();
    return RunAll(**db, stop);
  }();
  rebuild_ = false;
  only_machines_.clear();
  rebuild_cursor_.reset();
  if (!summary) return summary.error();
  VIGIL_RETURN_IF_ERROR(Fault("rebuilt"));
  if (machines.empty()) {
    // The model stage's tables (models, alerts, ...) survive the rebuild; its
    // rescore_from rows make the current model score every rebuilt row again.
    if (std::filesystem::exists(target)) VIGIL_RETURN_IF_ERROR(store::CarryOverTables(target, tmp));
    VIGIL_RETURN_IF_ERROR(store::ReplaceDatabase(tmp, target));
  } else {
    Result<std::unique_ptr<store::FeatureStore>> db = store::FeatureStore::Open(target, config_);
    if (!db) return db.error();
    VIGIL_RETURN_IF_ERROR((*db)->ReplaceMachines(tmp, machines));
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((tmp + suffix).c_str());
  }
  return summary;
}

namespace {

// By machine, sensor and time, the copy that wins first: the order Applier::Apply takes.
// The parser sorts each part before handing it over, off the applying thread.
void SortReadings(Readings* rs) {
  SortMostlySorted(rs, [](const Reading& a, const Reading& b) {
    if (a.machine != b.machine) return a.machine < b.machine;
    if (a.sensor != b.sensor) return a.sensor < b.sensor;
    if (a.r.ts_ms != b.r.ts_ms) return a.r.ts_ms < b.r.ts_ms;
    return WinsOver(a.r, b.r);
  });
}

// Applies a batch's parsed readings and events to the store, a part at a time, inside the
// batch's transaction. Everything it needs from the past comes from the store: the chunks
// its readings fall in, the window values at the edges of the rows it recomputes and the
// block partials between them, so its cost follows the new data, not the history.
class Applier {
 public:
  Applier(store::FeatureStore& db, const Config& config, store::BatchRecord* rec)
      : db_(db), config_(config), rec_(rec), W_(config.processing.window_ms), H_(config.processing.label_horizon_ms),
        chunk_ms_(ChunkMs(W_)) {
    dmax_ = W_;
    for (const FeatureSpec& f : config.features) {
      int sensor = 0;
      for (size_t k = 0; k < config.sensors.size(); ++k) {
        if (config.sensors[k].name == f.sensor) sensor = static_cast<int>(k);
      }
      geom_.push_back({sensor, f.duration_ms, BlockMs(f.duration_ms, W_)});
      dmax_ = std::max(dmax_, f.duration_ms);
      if (std::find(partial_keys_.begin(), partial_keys_.end(), std::pair(sensor, geom_.back().B)) == partial_keys_.end()) {
        partial_keys_.emplace_back(sensor, geom_.back().B);
      }
    }
    // Features of one sensor and duration share one rolling fold.
    for (size_t f = 0; f < geom_.size(); ++f) {
      auto same = [&](const Fold& x) { return geom_[x.features[0]].sensor == geom_[f].sensor && geom_[x.features[0]].D == geom_[f].D; };
      auto fold = std::find_if(folds_.begin(), folds_.end(), same);
      if (fold == folds_.end()) fold = folds_.insert(folds_.end(), Fold{});
      fold->features.push_back(f);
      fold->aggs.push_back(config.features[f].aggregate);
    }
  }

  // Applies and clears readings (sorted by SortReadings) and events.
  Status Apply(Readings* readings, std::vector<Event>* events, const std::vector<std::string>& names);

 private:
  struct Geometry {
    int sensor;
    int64_t D, B;  // duration, block
  };
  struct MachineWork {
    int64_t latest = INT64_MIN;  // newest reading or event time of the part
    std::vector<WindowValue> values;
    std::vector<int64_t> new_failures;
  };
  Status Machine(const std::string& m, MachineWork* w);
  Status ComputeRange(const std::string& m, Range r, const WindowValue* v, const WindowValue* v_end,
                      const std::vector<int64_t>& failures, int64_t wm, int64_t latest);
  Status LoadValues(const std::string& m, int sensor, Range x, std::vector<std::pair<int64_t, double>>* out);

  store::FeatureStore& db_;
  const Config& config_;
  store::BatchRecord* rec_;
  const int64_t W_, H_, chunk_ms_;
  int64_t dmax_;
  std::vector<Geometry> geom_;                        // per feature
  std::vector<std::pair<int, int64_t>> partial_keys_;  // distinct (sensor, block)
  struct Fold {
    std::vector<size_t> features;  // indexes into config.features, of one (sensor, duration)
    std::vector<Aggregate> aggs;   // their aggregates, in the same order
  };
  std::vector<Fold> folds_;
  std::vector<store::StoredReading> chunk_readings_;   // LoadValues' buffer
  std::vector<store::FeatureRow> rows_;                // ComputeRange's buffer (its first rows are the range's)
};

Status Applier::Apply(Readings* readings, std::vector<Event>* events, const std::vector<std::string>& names) {
  Readings& rs = *readings;
  std::map<uint32_t, MachineWork> work;
  std::vector<store::StoredReading> stored, fresh;
  std::vector<int64_t> changed;
  for (size_t i = 0; i < rs.size();) {
    // One (machine, sensor, chunk) at a time.
    const Reading& head = rs[i];
    const int64_t chunk = FloorTo(head.r.ts_ms, chunk_ms_);
    fresh.clear();
    size_t j = i;
    for (; j < rs.size() && rs[j].machine == head.machine && rs[j].sensor == head.sensor &&
           rs[j].r.ts_ms < chunk + chunk_ms_; ++j) {
      fresh.push_back(rs[j].r);
    }
    MachineWork& w = work[head.machine];
    w.latest = std::max(w.latest, fresh.back().ts_ms);
    const std::string& m = names[head.machine];
    const int sensor = static_cast<int>(head.sensor);
    // Readings newer than every stored one of their series, in windows of their own, cannot
    // be duplicates: they go into a part of their own, and the stored chunk is neither read
    // here nor written again (+1% at 10M: 600 of 3,100 WAL pages fewer). Others are merged
    // into the chunk, whose parts become one again.
    Result<std::optional<store::FeatureStore::SeriesTail>> tail = db_.Tail(m, sensor, chunk_ms_);
    if (!tail) return tail.error();
    const std::optional<store::FeatureStore::SeriesTail>& t = *tail;
    const bool append = !t || chunk > t->chunk_ms ||
                        (chunk == t->chunk_ms && t->parts < store::kMaxChunkParts &&
                         FloorTo(fresh.front().ts_ms, W_) > FloorTo(t->last_ms, W_));
    int parts = 0;  // the chunk's stored rows
    stored.clear();
    if (append) parts = t && chunk == t->chunk_ms ? t->parts : 0;
    else VIGIL_RETURN_IF_ERROR(db_.ReadChunk(m, sensor, chunk, &stored, &parts));
    changed.clear();
    MergeCounts counts;
    MergeReadings(&stored, fresh.data(), fresh.size(), &counts, &changed);
    rec_->readings += counts.readings;
    rec_->duplicates += counts.duplicates;
    if (!changed.empty()) {
      if (append) VIGIL_RETURN_IF_ERROR(db_.AppendChunkPart(m, sensor, chunk, parts, stored));
      else VIGIL_RETURN_IF_ERROR(db_.WriteChunk(m, sensor, chunk, stored, parts));
      if (append || chunk == t->chunk_ms) {  // the series' newest chunk, stored has its newest reading
        VIGIL_RETURN_IF_ERROR(db_.SetTail(m, sensor, {chunk, append ? parts + 1 : 1, stored.back().ts_ms}));
      }
      // The changed windows' means.
      size_t k = 0;
      int64_t prev = INT64_MIN;
      for (int64_t ts : changed) {
        const int64_t win = FloorTo(ts, W_);
        if (win == prev) continue;
        prev = win;
        double mean = 0;
        if (WindowMean(stored, &k, win, W_, &mean)) w.values.push_back({win, head.sensor, mean});
      }
    }
    i = j;
  }
  for (const Event& e : *events) {
    MachineWork& w = work[e.machine];
    w.latest = std::max(w.latest, e.ts_ms);
    bool added = false;
    VIGIL_RETURN_IF_ERROR(db_.InsertFailure(names[e.machine], e.ts_ms, e.code, &added));
    if (added) {
      rec_->failures++;
      w.new_failures.push_back(e.ts_ms);
    }
  }
  for (auto& [id, w] : work) VIGIL_RETURN_IF_ERROR(Machine(names[id], &w));
  readings->clear();
  events->clear();
  return Status::Ok();
}

Status Applier::Machine(const std::string& m, MachineWork* w) {
  Result<int64_t> old = db_.Watermark(m);
  if (!old) return old.error();
  const int64_t wm = std::max(*old, w->latest);
  if (wm > *old) VIGIL_RETURN_IF_ERROR(db_.SetWatermark(m, wm));
  std::vector<int64_t> failures;
  VIGIL_RETURN_IF_ERROR(db_.FailuresOf(m, &failures));
  int64_t first_touched = INT64_MAX;
  if (!w->values.empty()) {
    std::vector<WindowValue>& vs = w->values;
    SortRuns(&vs, [](const WindowValue& a, const WindowValue& b) {
      return std::tie(a.window_ms, a.sensor) < std::tie(b.window_ms, b.sensor);
    });
    Result<int64_t> latest = db_.LatestRow(m);
    if (!latest) return latest.error();
    const int64_t end = std::max(*latest, vs.back().window_ms) + W_;  // no row at or after end
    // Rows whose features can include a changed window: (w, w + longest duration).
    std::vector<Range> ranges;
    for (const WindowValue& v : vs) {
      if (ranges.empty() || ranges.back().lo != v.window_ms) ranges.push_back({v.window_ms, std::min(v.window_ms + dmax_, end)});
    }
    Merge(&ranges, dmax_);  // nearby ranges share their look-back
    size_t k = 0;
    for (const Range& r : ranges) {
      size_t k2 = k;
      while (k2 < vs.size() && vs[k2].window_ms < r.hi) ++k2;
      VIGIL_RETURN_IF_ERROR(ComputeRange(m, r, vs.data() + k, vs.data() + k2, failures, wm, *latest));
      first_touched = std::min(first_touched, r.lo);
      k = k2;
    }
  }
  // Labels of rows the ranges did not rewrite: a new failure labels the horizon before it;
  // a watermark step decides the rows whose horizon it passed.
  for (int64_t f : w->new_failures) {
    Result<int64_t> t = db_.LabelFailing(m, f - H_, f);
    if (!t) return t.error();
    first_touched = std::min(first_touched, *t);
  }
  if (wm > *old) {
    const int64_t lo = *old == INT64_MIN ? INT64_MIN / 4 : *old - H_ + 1;
    Result<int64_t> t = db_.LabelDecided(m, lo, wm - H_ + 1);
    if (!t) return t.error();
    first_touched = std::min(first_touched, *t);
  }
  if (first_touched != INT64_MAX) {
    VIGIL_RETURN_IF_ERROR(db_.RefreshLatest(m));
    VIGIL_RETURN_IF_ERROR(db_.MarkRescore(m, first_touched));
  }
  return Status::Ok();
}

// Appends one sensor's stored window means over x, in window order.
Status Applier::LoadValues(const std::string& m, int sensor, Range x, std::vector<std::pair<int64_t, double>>* out) {
  chunk_readings_.clear();
  // To the end of the chunk holding x.hi - 1: all of its parts.
  VIGIL_RETURN_IF_ERROR(db_.ReadChunks(m, sensor, FloorTo(x.lo, chunk_ms_), FloorTo(x.hi - 1, chunk_ms_) + chunk_ms_, &chunk_readings_));
  for (size_t k = 0; k < chunk_readings_.size();) {
    const int64_t win = FloorTo(chunk_readings_[k].ts_ms, W_);
    if (win >= x.hi) break;
    double mean = 0;
    if (win >= x.lo && WindowMean(chunk_readings_, &k, win, W_, &mean)) out->emplace_back(win, mean);
    while (k < chunk_readings_.size() && chunk_readings_[k].ts_ms < win + W_) ++k;
  }
  return Status::Ok();
}

Status Applier::ComputeRange(const std::string& m, Range r, const WindowValue* v, const WindowValue* v_end,
                             const std::vector<int64_t>& failures, int64_t wm, int64_t latest) {
  const size_t ns = config_.sensors.size(), nf = config_.features.size();
  // What each feature needs as values: the blocks holding t - D, and the blocks holding t
  // from their start, for every row t in [lo, hi). The blocks between come as partials.
  // Every sensor is needed over the rows themselves (their sensor columns); a sensor's
  // other ranges only for its own features: at 24 h, the left edges are most of the reads.
  std::vector<std::vector<Range>> needs(nf), load(ns, std::vector<Range>{r});
  for (size_t f = 0; f < nf; ++f) {
    const Geometry& g = geom_[f];
    needs[f] = {{FloorTo(r.lo - g.D, g.B), FloorTo(r.hi - 1 - g.D, g.B) + g.B}, {FloorTo(r.lo, g.B), r.hi}};
    Merge(&needs[f], 0);
    load[g.sensor].insert(load[g.sensor].end(), needs[f].begin(), needs[f].end());
  }
  // The stored window values come back from the readings' chunks (a blob per sensor and
  // chunk, much cheaper to read than feature rows). Windows after the machine's newest row
  // hold only the part's new values (every stored value has its row), so none is read.
  std::vector<std::vector<std::pair<int64_t, double>>> by_sensor(ns);
  std::vector<int64_t> loaded_ts;  // the union of the sensors' windows
  const int64_t stored_end = latest == INT64_MIN ? INT64_MIN : latest + W_;
  for (size_t s = 0; s < ns; ++s) {
    Merge(&load[s], 0);
    for (const Range& x : load[s]) {
      if (x.lo < std::min(x.hi, stored_end)) VIGIL_RETURN_IF_ERROR(LoadValues(m, static_cast<int>(s), {x.lo, std::min(x.hi, stored_end)}, &by_sensor[s]));
    }
    const size_t mid = loaded_ts.size();
    for (const auto& [win, mean] : by_sensor[s]) loaded_ts.push_back(win);
    std::inplace_merge(loaded_ts.begin(), loaded_ts.begin() + static_cast<std::ptrdiff_t>(mid), loaded_ts.end());
  }
  loaded_ts.erase(std::unique(loaded_ts.begin(), loaded_ts.end()), loaded_ts.end());
  std::vector<std::optional<double>> loaded(loaded_ts.size() * ns);  // ns per row
  for (size_t s = 0; s < ns; ++s) {
    size_t row = 0;
    for (const auto& [win, mean] : by_sensor[s]) {
      while (loaded_ts[row] < win) ++row;
      loaded[row * ns + s] = mean;
    }
  }
  // The part's new window values over the stored ones, by column (ns values per row).
  const WindowValue* const v_begin = v;
  std::vector<int64_t> ts;
  std::vector<std::optional<double>> val;
  ts.reserve(loaded_ts.size() + static_cast<size_t>(v_end - v));
  val.reserve(ts.capacity() * ns);
  for (size_t i = 0; i < loaded_ts.size() || v != v_end;) {
    const bool stored = i < loaded_ts.size() && (v == v_end || loaded_ts[i] <= v->window_ms);
    const int64_t t = stored ? loaded_ts[i] : v->window_ms;
    ts.push_back(t);
    if (stored) {
      val.insert(val.end(), loaded.begin() + static_cast<std::ptrdiff_t>(i * ns), loaded.begin() + static_cast<std::ptrdiff_t>((i + 1) * ns));
      ++i;
    } else {
      val.resize(val.size() + ns);
    }
    for (; v != v_end && v->window_ms == t; ++v) val[(ts.size() - 1) * ns + v->sensor] = v->mean;
  }
  auto first_at = [&](int64_t t) { return static_cast<size_t>(std::lower_bound(ts.begin(), ts.end(), t) - ts.begin()); };
  const size_t t0 = first_at(r.lo), t1 = first_at(r.hi);
  const std::vector<int64_t> targets(ts.begin() + static_cast<std::ptrdiff_t>(t0), ts.begin() + static_cast<std::ptrdiff_t>(t1));
  // The rows go into the buffer of earlier ranges: their vectors keep their capacity, and
  // a batch's 50,000 rows (+1% at 10M) cost no allocation each.
  const size_t n = targets.size();
  std::vector<store::FeatureRow>& rows = rows_;
  if (rows.size() < n) rows.resize(n);
  for (size_t j = 0; j < n; ++j) {
    rows[j].window_start_ms = targets[j];
    rows[j].sensor_values.assign(val.begin() + static_cast<std::ptrdiff_t>((t0 + j) * ns),
                                 val.begin() + static_cast<std::ptrdiff_t>((t0 + j + 1) * ns));
    rows[j].features.assign(nf, std::nullopt);
  }
  std::vector<store::BlockPartial> stored;
  for (const Fold& fold : folds_) {
    const size_t f = fold.features[0];
    const Geometry& g = geom_[f];
    Series s;
    for (const Range& x : needs[f]) {
      for (size_t i = first_at(x.lo); i < ts.size() && ts[i] < x.hi; ++i) {
        if (const auto& x_v = val[i * ns + g.sensor]) s.ts.push_back(ts[i]), s.v.push_back(*x_v);
      }
    }
    VIGIL_RETURN_IF_ERROR(db_.ReadPartials(m, g.sensor, g.B, FloorTo(r.lo - g.D, g.B) + g.B, FloorTo(r.hi - 1, g.B), &stored));
    for (const store::BlockPartial& p : stored) s.partials.emplace_back(p.start_ms, FromStored(p));
    const std::vector<std::vector<std::optional<double>>> out = Rolling(s, targets, fold.aggs, g.D, W_);
    for (size_t a = 0; a < fold.features.size(); ++a) {
      for (size_t j = 0; j < n; ++j) rows[j].features[fold.features[a]] = out[a][j];
    }
  }
  for (size_t j = 0; j < n; ++j) {
    store::FeatureRow& row = rows[j];
    const int64_t t = row.window_start_ms;
    auto next = std::upper_bound(failures.begin(), failures.end(), t);
    if (next != failures.end() && *next <= t + H_) row.label = 1;
    else if (wm != INT64_MIN && wm >= t + H_) row.label = 0;
    else row.label = std::nullopt;
  }
  VIGIL_RETURN_IF_ERROR(db_.UpsertRows(m, rows, 0, n));
  rec_->rows += static_cast<int64_t>(n);
  // The partials of the blocks the new values changed, from the blocks' values (all here:
  // a block holding a changed window starts at or after FloorTo(lo, B) and ends by hi or
  // past the newest row).
  for (const auto& [sensor, B] : partial_keys_) {
    int64_t prev = INT64_MIN;
    std::vector<int64_t> times;
    std::vector<double> vals;
    for (const WindowValue* x = v_begin; x != v_end; ++x) {
      const int64_t block = FloorTo(x->window_ms, B);
      if (static_cast<int>(x->sensor) != sensor || block == prev) continue;  // sorted by window
      prev = block;
      times.clear(), vals.clear();
      for (size_t i = first_at(block); i < ts.size() && ts[i] < block + B; ++i) {
        if (const auto& x_v = val[i * ns + static_cast<size_t>(sensor)]) times.push_back(ts[i]), vals.push_back(*x_v);
      }
      VIGIL_RETURN_IF_ERROR(db_.WritePartial(m, sensor, B, ToStored(block, PartialOf(times.data(), vals.data(), vals.size()))));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<bool> Processor::RunBatch(store::FeatureStore& db, store::BatchRecord* rec) {
  const std::string lake_dir = lake::LakeDir(config_.data_dir);
  rec->started_ms = clock_.NowMs();

  std::vector<std::string> batch;
  std::unordered_set<std::string> listed;  // raw/ as this batch found it
  int64_t bytes = 0;
  bool more = false;
  auto take = [&](const std::string& path) -> bool {  // false: the batch is full
    if (bytes >= batch_max_bytes || batch.size() >= batch_max_files) {
      more = true;
      return false;
    }
    std::error_code ec;
    bytes += static_cast<int64_t>(std::filesystem::file_size(path, ec));
    batch.push_back(path);
    return true;
  };
  // A rebuild reads the whole lake once, in order, a date at a time: months of history are
  // millions of archive files, which a listing per batch would hold in memory and read
  // again for every batch (with a lookup each of those already taken).
  if (rebuild_) {
    for (;;) {
      Result<const lake::SegmentFile*> s = rebuild_cursor_->Peek();
      if (!s) return s.error();
      if (!*s || !take((*s)->path)) break;
      rebuild_cursor_->Take();
    }
  } else {
    // The processor reads raw/ only, listed again for each batch (it holds what is not
    // archived yet): the published segments, and (1) moves left over by an earlier batch.
    Result<std::vector<lake::SegmentFile>> segs = listed_ahead_.valid() ? listed_ahead_.get() : ListRaw(lake_dir);
    if (!segs) return segs.error();
    for (const auto& s : *segs) listed.insert(s.path);
    VIGIL_RETURN_IF_ERROR(db.BeginRead());  // 200 segments: 600 system calls fewer
    struct EndRead {
      store::FeatureStore& db;
      ~EndRead() { db.EndRead(); }
    } end_read{db};
    bool synced = false;
    for (const auto& s : *segs) {
      if (archiving_.count(s.path)) continue;  // the archiver is moving it now
      Result<int64_t> consumed_by = db.ConsumedBy(s.path.substr(lake_dir.size() + 1));
      if (!consumed_by) return consumed_by.error();
      if (*consumed_by > 0) {
        // The batch that took it may be a crashed run's, its commit not on disk yet.
        if (!synced) VIGIL_RETURN_IF_ERROR(store::SyncWal(data_paths::Database(config_.data_dir)));
        synced = true;
        VIGIL_RETURN_IF_ERROR(lake::FinishArchive(fs_, lake_dir, s.path, *consumed_by));
        listed.erase(s.path);  // gone from raw/ too
        continue;
      }
      if (!take(s.path)) break;
    }
  }
  rec->segments = static_cast<int64_t>(batch.size());
  if (batch.empty()) return false;

  // (4a) The archive step's copies (lake/archive.h) are written once the parse is done,
  // beside the apply's end and the commit. Beside the parse they took a core from the apply,
  // the batch's critical path on two cores: +1% at 10M, 264 -> 233 ms (BENCHMARKS.md).
  std::future<Result<lake::ArchivePlan>> staged;
  auto stage = [&] {
    if (rebuild_) return;
    staged = std::async(std::launch::async, [this, lake_dir, batch, tag = std::to_string(++staged_batches_)] {
      return lake::StageArchive(fs_, lake_dir, batch, tag);
    });
  };

  // (2) Parse on a thread of its own, (3) apply in parts on this one as they come: one
  // transaction for the whole batch. At most one part waits between the two, so memory
  // stays at about three parts.
  struct Part {
    Readings readings;
    std::vector<Event> events;
    std::vector<std::string> names;  // the parser's interned machines so far
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Part> queue;
  std::vector<Part> spare;  // applied parts, whose buffers the parser reuses (no page faults)
  bool parsed = false, stop = false;
  std::atomic<bool> applier_waits{false};  // for a part now rather than a bigger one later
  Status parse_status;
  int64_t lines = 0, bad_lines = 0;
  auto new_part = [] {
    Part p;
    p.readings.reserve(kPartReadings);  // no copies as it grows; pages touched as it fills
    return p;
  };
  std::thread parser_thread([&] {
    Part part = new_part();
    std::map<std::string, uint32_t, std::less<>> ids;
    std::map<std::string_view, uint32_t, std::less<>> sensor_ids;  // a wide plant has many channels
    for (size_t i = 0; i < config_.sensors.size(); ++i) sensor_ids.emplace(config_.sensors[i].name, static_cast<uint32_t>(i));
    std::string_view last_machine;  // a key of ids (map nodes stay where they are)
    uint32_t last_machine_id = UINT32_MAX;
    auto last_sensor = sensor_ids.end();
    auto hand_over = [&]() -> Status {
      SortReadings(&part.readings);
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return queue.empty() || stop; });
      if (stop) return Status::Unavailable("the batch stopped");
      part.names.resize(ids.size());
      for (const auto& [name, id] : ids) part.names[id] = name;
      queue.push_back(std::move(part));
      if (spare.empty()) {
        part = new_part();
      } else {
        part = std::move(spare.back());
        spare.pop_back();
      }
      cv.notify_all();
      return Status::Ok();
    };
    std::unique_ptr<lake::LakeWriter> quarantine;
    auto quarantine_line = [&](std::string_view line, Reason reason, const std::string& detail) -> Status {
      bad_lines++;
      if (!quarantine) quarantine = std::make_unique<lake::LakeWriter>(config_.lake, lake_dir, clock_, fs_);
      std::string out;
      const int64_t now = clock_.NowMs();
      lake::AppendQuarantineLine(now, "", reason, detail, line, std::nullopt, &out);
      return quarantine->AppendQuarantine(FormatDate(now), out);
    };
    simdjson::dom::parser parser;
    const std::string prefix = config_.mqtt.topic_prefix + "/";
    Status st;
    for (size_t b = 0; b < batch.size(); ++b) {
      const std::string& path = batch[b];
      const std::string rel = path.substr(lake_dir.size() + 1);
      st = lake::ForEachLine(fs_, path, [&](std::string_view line, int64_t line_no) -> Status {
        if (line.empty()) return Status::Ok();
        lines++;
        auto where = [&] { return rel + ":" + std::to_string(line_no) + ": "; };
        lake::RawLine raw;
        std::string why;
        if (!lake::ParseRawLine(line, parser, &raw, &why)) return quarantine_line(line, Reason::kBadJson, where() + why);
        lake::TopicParts topic;
        if (!lake::SplitTopic(raw.topic, prefix, &topic)) {
          return quarantine_line(line, Reason::kBadTopic, where() + "unexpected topic");
        }
        // A segment holds one machine's (and mostly one sensor's) lines: the last name
        // found is tried first.
        if (last_machine_id == UINT32_MAX || topic.machine_id != last_machine) {
          auto id = ids.find(topic.machine_id);
          if (id == ids.end()) id = ids.emplace(std::string(topic.machine_id), static_cast<uint32_t>(ids.size())).first;
          last_machine = id->first;
          last_machine_id = id->second;
        }
        const simdjson::dom::object& payload = raw.payload_object;
        if (topic.type == "event" && topic.name == "failure") {
          std::string_view code;
          if (payload["codigo_evento"].get(code) && payload["event_code"].get(code)) {
            return quarantine_line(line, Reason::kBadValue, where() + "no event code");
          }
          part.events.push_back({last_machine_id, raw.event_ms, std::string(code)});
          return Status::Ok();
        }
        if (last_sensor == sensor_ids.end() || topic.name != last_sensor->first) last_sensor = sensor_ids.find(topic.name);
        if (last_sensor == sensor_ids.end()) return quarantine_line(line, Reason::kUnknownSensor, where() + "sensor not configured");
        const uint32_t sensor = last_sensor->second;
        double value = 0;
        if (payload[config_.sensors[sensor].field].get(value)) {
          return quarantine_line(line, Reason::kBadValue, where() + "no numeric value");
        }
        part.readings.push_back({last_machine_id, sensor, {raw.event_ms, value, raw.received_ms}});
        return part.readings.size() >= kPartReadings ? hand_over() : Status::Ok();
      });
      if (!st.ok()) break;
      auto partition = [](const std::string& p) { return std::string_view(p).substr(0, p.rfind('/')); };
      const bool boundary = b + 1 < batch.size() && partition(batch[b + 1]) != partition(path);
      if (boundary && !part.readings.empty() && (part.readings.size() >= kPartMinReadings || applier_waits)) {
        st = hand_over();
        if (!st.ok()) break;
      }
    }
    if (st.ok() && quarantine) st = quarantine->Close();
    if (st.ok()) stage();  // `staged` is read once this thread is joined
    if (st.ok()) st = hand_over();
    std::lock_guard<std::mutex> lock(mu);
    parse_status = st;
    parsed = true;
    cv.notify_all();
  });
  bool in_tx = false;
  auto fail = [&](Status s) -> Result<bool> {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
      cv.notify_all();
    }
    if (parser_thread.joinable()) parser_thread.join();
    if (in_tx) db.Rollback();
    return s;
  };
  Applier applier(db, config_, rec);
  for (;;) {
    Part part;
    {
      std::unique_lock<std::mutex> lock(mu);
      applier_waits = queue.empty() && !parsed;
      cv.wait(lock, [&] { return !queue.empty() || parsed; });
      applier_waits = false;
      if (queue.empty()) break;
      part = std::move(queue.front());
      queue.pop_front();
      cv.notify_all();
    }
    if (!in_tx) {
      if (Status st = db.Begin(); !st.ok()) return fail(st);
      in_tx = true;
    }
    if (Status st = applier.Apply(&part.readings, &part.events, part.names); !st.ok()) return fail(st);
    std::lock_guard<std::mutex> lock(mu);
    spare.push_back(std::move(part));  // Apply cleared it; its capacity stays
  }
  parser_thread.join();
  rec->lines += lines;
  rec->bad_lines += bad_lines;
  if (!parse_status.ok()) return fail(parse_status);
  if (Status st = Fault("parsed"); !st.ok()) return fail(st);

  rec->finished_ms = clock_.NowMs();
  rec->outcome = rec->bad_lines ? "ok, " + std::to_string(rec->bad_lines) + " bad line(s) quarantined" : "ok";
  if (!rebuild_) {
    // Rows of segments that left raw/ (an archive step moved them) are never looked up
    // again, and kept they would grow with the history (58,000 a day at 100 machines x 2
    // sensors): the table keeps the last batches' rows. Those of the archive step still
    // running stay. A move that a power loss undid (a rename not yet in the file system's
    // journal; this commit's sync puts the earlier ones there on ext4) brings a segment
    // back without its row: processed again, its readings are duplicates, nothing changes.
    auto keep = [&](const std::string& rel) {
      const std::string path = lake_dir + "/" + rel;
      return listed.count(path) > 0 || archiving_.count(path) > 0;
    };
    if (Status st = db.ForgetConsumed(keep); !st.ok()) return fail(st);
  }
  Result<int64_t> id = db.RecordBatch(*rec);
  if (!id) return fail(id.error());
  for (const std::string& path : batch) {
    // A rebuild records only raw segments (for the processor after it to archive, not
    // process again); its cursor never hands out a segment twice.
    const std::string rel = path.substr(lake_dir.size() + 1);
    if (rebuild_ && !rel.starts_with("raw/")) continue;
    if (Status st = db.MarkConsumed(rel, *id); !st.ok()) return fail(st);
  }
  if (Status st = Fault("before_commit"); !st.ok()) return fail(st);
  VIGIL_RETURN_IF_ERROR(db.Commit());
  if (more) db.StartCheckpoint();  // beside the next batch's parse (the last one's: see FeatureStore)
  VIGIL_RETURN_IF_ERROR(Fault("after_commit"));

  // (4b) Archive, compacted: at most kCompactAbove files per (date, machine) of the batch,
  // in the background.
  // One archiver at a time; a failure surfaces at the next join (as a crash there would).
  if (!rebuild_) {
    VIGIL_RETURN_IF_ERROR(JoinArchiver());
    archiving_.insert(batch.begin(), batch.end());
    archiver_ = std::thread([this, lake_dir, staged = std::move(staged), id = *id]() mutable {
      // The commit is on disk before any of its segments leaves raw/ (store/db.h: kProcessor).
      Status synced = store::SyncWal(data_paths::Database(config_.data_dir));
      Result<lake::ArchivePlan> plan = staged.get();
      if (!synced.ok()) archived_ = synced;
      else archived_ = plan ? lake::FinishStaged(fs_, lake_dir, *plan, id, [&] { return Fault("moved_one"); }) : plan.error();
    });
  }
  return more;
}

}  // namespace vigil::process
