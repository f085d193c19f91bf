#include "process/batch.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <climits>
#include <map>
#include <optional>
#include <set>

#include "common/dir_lock.h"
#include "common/data_paths.h"
#include "common/logging.h"
#include "common/timestamp.h"
#include "lake/jsonl_writer.h"
#include "lake/archive.h"
#include "lake/lake_reader.h"
#include "lake/paths.h"
#include "process/rolling.h"
#include "store/rebuild.h"

namespace vigil::process {
namespace {

int64_t FloorTo(int64_t t, int64_t w) { return (t / w - ((t % w != 0) && (t < 0))) * w; }

struct Event {
  std::string machine_id;
  int64_t ts_ms;
  std::string code;
};

struct Range {
  int64_t lo, hi;  // [lo, hi)
};

// Merges overlapping ranges, or ranges closer than `slack`, in place.
void Merge(std::vector<Range>* rs, int64_t slack) {
  std::sort(rs->begin(), rs->end(), [](const Range& a, const Range& b) { return a.lo < b.lo; });
  std::vector<Range> out;
  for (const Range& r : *rs) {
    if (!out.empty() && r.lo <= out.back().hi + slack) out.back().hi = std::max(out.back().hi, r.hi);
    else out.push_back(r);
  }
  *rs = std::move(out);
}

// "First received wins" as a string that sorts: received_at, then, for copies received in
// the same millisecond, the smaller value. The tie-break depends on nothing but the
// reading, so the winner is the same whichever file, area (raw/, archive/) or compacted
// archive file the copies lie in, and in any split into batches.
std::string Rank(int64_t received_ms, double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  bits = (bits >> 63) ? ~bits : bits | (uint64_t{1} << 63);  // unsigned order = numeric order
  char buf[48];
  std::snprintf(buf, sizeof buf, "%013lld|%016llx", static_cast<long long>(received_ms),
                static_cast<unsigned long long>(bits));
  return buf;
}

}  // namespace

Processor::Processor(const Config& config, Clock& clock, lake::FileSystem& fs)
    : config_(config), clock_(clock), fs_(fs) {}
Processor::~Processor() = default;

Result<RunSummary> Processor::RunPending(const std::atomic<bool>* stop) {
  Result<DirLock> lock = DirLock::Acquire(ProcessLockPath(config_.data_dir), "a vigil processor");
  if (!lock) return lock.error();
  Result<std::unique_ptr<store::FeatureStore>> db = store::FeatureStore::Open(data_paths::Database(config_.data_dir), config_);
  if (!db) return db.error();
  return RunAll(**db, stop);
}

Result<RunSummary> Processor::RunAll(store::FeatureStore& db, const std::atomic<bool>* stop) {
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
  Result<RunSummary> summary = [&]() -> Result<RunSummary> {
    Result<std::unique_ptr<store::FeatureStore>> db = store::FeatureStore::Open(tmp, config_);
    if (!db) return db.error();
    return RunAll(**db, stop);
  }();
  rebuild_ = false;
  only_machines_.clear();
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

Result<bool> Processor::RunBatch(store::FeatureStore& db, store::BatchRecord* rec) {
  const std::string lake_dir = lake::LakeDir(config_.data_dir);
  const int64_t W = config_.processing.window_ms, H = config_.processing.label_horizon_ms;
  int64_t dmax = W, bmax = W;
  for (const FeatureSpec& f : config_.features) {
    dmax = std::max(dmax, f.duration_ms);
    bmax = std::max(bmax, BlockMs(f.duration_ms, W));
  }
  rec->started_ms = clock_.NowMs();

  // (1) Segments and moves left over by an earlier batch.
  lake::LakeFilter filter;
  filter.archive = rebuild_;
  filter.machines = only_machines_;
  Result<std::vector<lake::SegmentFile>> segs = lake::ListSegments(lake_dir, filter);
  if (!segs) return segs.error();
  std::vector<std::string> batch;
  int64_t bytes = 0;
  bool more = false;
  for (const auto& s : *segs) {
    std::string rel = s.path.substr(lake_dir.size() + 1);
    Result<int64_t> consumed_by = db.ConsumedBy(rel);
    if (!consumed_by) return consumed_by.error();
    if (*consumed_by > 0) {
      if (!rebuild_) VIGIL_RETURN_IF_ERROR(lake::FinishArchive(fs_, lake_dir, s.path, *consumed_by));
      continue;
    }
    if (bytes >= batch_max_bytes) {
      more = true;
      break;
    }
    std::error_code ec;
    bytes += static_cast<int64_t>(std::filesystem::file_size(s.path, ec));
    batch.push_back(s.path);
  }
  rec->segments = static_cast<int64_t>(batch.size());
  if (batch.empty()) return false;

  // (2) Parse.
  std::unique_ptr<lake::LakeWriter> quarantine;
  auto quarantine_line = [&](std::string_view line, Reason reason, const std::string& detail) -> Status {
    if (!quarantine) quarantine = std::make_unique<lake::LakeWriter>(config_.lake, lake_dir, clock_, fs_);
    std::string out;
    const int64_t now = clock_.NowMs();
    lake::AppendQuarantineLine(now, "", reason, detail, line, std::nullopt, &out);
    return quarantine->AppendQuarantine(FormatDate(now), out);
  };
  std::vector<store::Reading> readings;
  std::vector<Event> events;
  simdjson::dom::parser parser, payload_parser;
  std::string data;
  const std::string prefix = config_.mqtt.topic_prefix + "/";
  for (const std::string& path : batch) {
    const std::string rel = path.substr(lake_dir.size() + 1);
    VIGIL_RETURN_IF_ERROR(fs_.ReadFile(path, &data));
    int64_t line_no = 0;
    for (size_t pos = 0; pos < data.size();) {
      size_t nl = data.find('\n', pos);
      if (nl == std::string::npos) nl = data.size();
      std::string_view line(data.data() + pos, nl - pos);
      pos = nl + 1;
      ++line_no;
      if (line.empty()) continue;
      rec->lines++;
      lake::RawLine raw;
      std::string why;
      if (!lake::ParseRawLine(line, parser, &raw, &why)) {
        rec->bad_lines++;
        VIGIL_RETURN_IF_ERROR(quarantine_line(line, Reason::kBadJson, rel + ":" + std::to_string(line_no) + ": " + why));
        continue;
      }
      lake::TopicParts topic;
      if (!lake::SplitTopic(raw.topic, prefix, &topic)) {
        rec->bad_lines++;
        VIGIL_RETURN_IF_ERROR(quarantine_line(line, Reason::kBadTopic, rel + ":" + std::to_string(line_no) + ": unexpected topic"));
        continue;
      }
      std::string machine(topic.machine_id);
      std::string_view type = topic.type, name = topic.name;
      simdjson::dom::element payload;
      // A parser of its own: raw.topic (and so type and name) point into `parser`.
      if (payload_parser.parse(raw.payload.data(), raw.payload.size(), true).get(payload)) {
        rec->bad_lines++;
        VIGIL_RETURN_IF_ERROR(quarantine_line(line, Reason::kBadJson, rel + ":" + std::to_string(line_no) + ": payload is not JSON"));
        continue;
      }
      if (type == "event" && name == "failure") {
        std::string_view code;
        if (payload["codigo_evento"].get(code) && payload["event_code"].get(code)) {
          rec->bad_lines++;
          VIGIL_RETURN_IF_ERROR(quarantine_line(line, Reason::kBadValue, rel + ":" + std::to_string(line_no) + ": no event code"));
          continue;
        }
        events.push_back({machine, raw.event_ms, std::string(code)});
        continue;
      }
      int sensor = -1;
      for (size_t i = 0; i < config_.sensors.size(); ++i) {
        if (config_.sensors[i].name == name) sensor = static_cast<int>(i);
      }
      double value = 0;
      if (sensor < 0) {
        rec->bad_lines++;
        VIGIL_RETURN_IF_ERROR(quarantine_line(line, Reason::kUnknownSensor, rel + ":" + std::to_string(line_no) + ": sensor not configured"));
        continue;
      }
      if (payload[config_.sensors[sensor].field].get(value)) {
        rec->bad_lines++;
        VIGIL_RETURN_IF_ERROR(quarantine_line(line, Reason::kBadValue, rel + ":" + std::to_string(line_no) + ": no numeric value"));
        continue;
      }
      readings.push_back({std::move(machine), sensor, raw.event_ms, value, Rank(raw.received_ms, value)});
    }
  }
  if (quarantine) VIGIL_RETURN_IF_ERROR(quarantine->Close());
  VIGIL_RETURN_IF_ERROR(Fault("parsed"));

  // First received wins inside the batch too.
  std::sort(readings.begin(), readings.end(), [](const store::Reading& x, const store::Reading& y) {
    return std::tie(x.machine_id, x.sensor, x.ts_ms, x.rank) < std::tie(y.machine_id, y.sensor, y.ts_ms, y.rank);
  });

  // (3) One transaction.
  VIGIL_RETURN_IF_ERROR(db.Begin());
  auto fail = [&](Status s) -> Result<bool> {
    db.Rollback();
    return s;
  };
  std::map<std::string, std::set<int64_t>> changed_windows;  // machine -> window starts
  std::map<std::string, std::vector<Range>> ranges;          // machine -> rows to recompute
  std::map<std::string, int64_t> batch_max;                  // machine -> latest time in batch
  for (size_t i = 0; i < readings.size(); ++i) {
    const store::Reading& r = readings[i];
    batch_max[r.machine_id] = std::max(batch_max.count(r.machine_id) ? batch_max[r.machine_id] : INT64_MIN, r.ts_ms);
    if (i > 0 && readings[i - 1].machine_id == r.machine_id && readings[i - 1].sensor == r.sensor &&
        readings[i - 1].ts_ms == r.ts_ms) {
      rec->duplicates++;
      continue;
    }
    bool changed = false, duplicate = false;
    if (Status s = db.UpsertReading(r, &changed, &duplicate); !s.ok()) return fail(s);
    rec->readings += duplicate ? 0 : 1;
    rec->duplicates += duplicate ? 1 : 0;
    if (changed) changed_windows[r.machine_id].insert(FloorTo(r.ts_ms, W));
  }
  for (const Event& e : events) {
    batch_max[e.machine_id] = std::max(batch_max.count(e.machine_id) ? batch_max[e.machine_id] : INT64_MIN, e.ts_ms);
    bool added = false;
    if (Status s = db.InsertFailure(e.machine_id, e.ts_ms, e.code, &added); !s.ok()) return fail(s);
    if (added) {
      rec->failures++;
      ranges[e.machine_id].push_back({e.ts_ms - H, e.ts_ms});  // rows t with t < f <= t + H
    }
  }
  std::map<std::string, int64_t> watermark;
  for (const auto& [m, t] : batch_max) {
    Result<int64_t> old = db.Watermark(m);
    if (!old) return fail(old.error());
    int64_t wm = std::max(*old, t);
    watermark[m] = wm;
    if (wm > *old) {
      if (Status s = db.SetWatermark(m, wm); !s.ok()) return fail(s);
      // Rows whose t + H passed from (old, wm]: their label is now decided.
      int64_t lo = *old == INT64_MIN ? INT64_MIN / 4 : *old - H + 1;
      ranges[m].push_back({lo, wm - H + 1});
    }
  }

  // Window means of the changed windows (readings summed in time order: order independent).
  std::vector<double> values;
  std::vector<store::FeatureRow> rows;
  for (const auto& [m, ws] : changed_windows) {
    for (int64_t w : ws) {
      store::FeatureRow row;
      row.window_start_ms = w;
      for (size_t s = 0; s < config_.sensors.size(); ++s) {
        if (Status st = db.ReadingsIn(m, static_cast<int>(s), w, w + W, &values); !st.ok()) return fail(st);
        std::optional<double> mean;
        if (!values.empty()) {
          double sum = 0;
          for (double v : values) sum += v;
          mean = sum / static_cast<double>(values.size());
        }
        row.sensor_values.push_back(mean);
      }
      row.features.assign(config_.features.size(), std::nullopt);
      if (Status st = db.UpsertRow(m, row); !st.ok()) return fail(st);
      ranges[m].push_back({w, w + dmax});  // rows whose features can include window w
    }
  }

  // Features and labels of the affected rows, machine by machine.
  std::vector<int64_t> failures;
  for (auto& [m, rs] : ranges) {
    int64_t first_written = INT64_MAX;
    Merge(&rs, dmax + bmax);
    if (Status st = db.FailuresOf(m, &failures); !st.ok()) return fail(st);
    const int64_t wm = watermark.count(m) ? watermark[m] : INT64_MIN;
    for (const Range& r : rs) {
      const int64_t load_from = FloorTo(std::max(r.lo, INT64_MIN / 4) - dmax - bmax, bmax);
      if (Status st = db.Rows(m, load_from, r.hi, &rows); !st.ok()) return fail(st);
      std::vector<Series> series(config_.sensors.size());
      std::vector<int64_t> targets;
      std::vector<size_t> target_idx;
      for (size_t i = 0; i < rows.size(); ++i) {
        for (size_t s = 0; s < config_.sensors.size(); ++s) {
          if (rows[i].sensor_values[s]) {
            series[s].ts.push_back(rows[i].window_start_ms);
            series[s].v.push_back(*rows[i].sensor_values[s]);
          }
        }
        if (rows[i].window_start_ms >= r.lo) {
          targets.push_back(rows[i].window_start_ms);
          target_idx.push_back(i);
        }
      }
      for (size_t f = 0; f < config_.features.size(); ++f) {
        const FeatureSpec& spec = config_.features[f];
        int s = 0;
        for (size_t k = 0; k < config_.sensors.size(); ++k) {
          if (config_.sensors[k].name == spec.sensor) s = static_cast<int>(k);
        }
        std::vector<std::optional<double>> v = Rolling(series[s], targets, spec.aggregate, spec.duration_ms, W);
        for (size_t j = 0; j < targets.size(); ++j) rows[target_idx[j]].features[f] = v[j];
      }
      for (size_t j = 0; j < targets.size(); ++j) {
        store::FeatureRow& row = rows[target_idx[j]];
        const int64_t t = row.window_start_ms;
        auto next = std::upper_bound(failures.begin(), failures.end(), t);
        if (next != failures.end() && *next <= t + H) row.label = 1;
        else if (wm != INT64_MIN && wm >= t + H) row.label = 0;
        else row.label = std::nullopt;
        if (Status st = db.UpsertRow(m, row); !st.ok()) return fail(st);
        rec->rows++;
        first_written = std::min(first_written, t);
      }
    }
    if (Status st = db.RefreshLatest(m); !st.ok()) return fail(st);
    if (first_written != INT64_MAX) {
      if (Status st = db.MarkRescore(m, first_written); !st.ok()) return fail(st);
    }
  }

  rec->finished_ms = clock_.NowMs();
  rec->outcome = rec->bad_lines ? "ok, " + std::to_string(rec->bad_lines) + " bad line(s) quarantined" : "ok";
  Result<int64_t> id = db.RecordBatch(*rec);
  if (!id) return fail(id.error());
  for (const std::string& path : batch) {
    if (Status st = db.MarkConsumed(path.substr(lake_dir.size() + 1), *id); !st.ok()) return fail(st);
  }
  if (Status st = Fault("before_commit"); !st.ok()) return fail(st);
  VIGIL_RETURN_IF_ERROR(db.Commit());
  VIGIL_RETURN_IF_ERROR(Fault("after_commit"));

  // (4) Archive, compacted: one file per (date, machine) of the batch.
  if (!rebuild_) {
    VIGIL_RETURN_IF_ERROR(lake::ArchiveSegments(fs_, lake_dir, batch, *id, [&] { return Fault("moved_one"); }));
  }
  return more;
}

}  // namespace vigil::process
