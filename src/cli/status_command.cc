// vigil status: one screen about a data directory: the lake by area (files, bytes, open
// segments), machines and newest event date in the lake, quarantine counts by reason,
// whether a daemon or a processor holds the directory, and from the feature store each
// machine's newest window, latest features, ISO 10816 vibration zone, last failure and
// label counts, plus the last batch. --json for scripts.
#include <simdjson.h>
#include <sys/statvfs.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "cli/commands.h"
#include "common/data_paths.h"
#include "cli/common_flags.h"
#include "common/dir_lock.h"
#include "common/json_text.h"
#include "common/timestamp.h"
#include "lake/file_system.h"
#include "lake/lake_reader.h"
#include "lake/paths.h"
#include "lake/segment_log.h"
#include "upload/uploader.h"
#include "store/views.h"
#include "store/machine_json.h"

namespace vigil::cli {
namespace {

namespace fs = std::filesystem;

struct AreaStats {
  uint64_t files = 0, bytes = 0, open = 0;
};

std::string Num(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v.value_or(0));
  return buf;
}

struct LakeStatus {
  std::map<std::string, AreaStats> areas;               // raw, archive, quarantine
  std::map<std::string, std::string> newest_date;       // machine -> newest raw/archive date
  std::map<std::string, uint64_t> quarantine_reasons;
  int run_pid = 0;
  int process_pid = 0;  // a processor working right now
  // Disk and upload: why intake stops when the disk fills (the upload queue holds bytes).
  uint64_t disk_free = 0, min_free = 0;
  bool upload_on = false;
  std::string bucket;
  uint64_t queued_files = 0, queued_bytes = 0, ledger_objects = 0;
  int upload_pid = 0;
};

void CollectUpload(const Config& c, LakeStatus* st) {
  struct statvfs v {};
  if (::statvfs(c.data_dir.c_str(), &v) == 0) st->disk_free = static_cast<uint64_t>(v.f_bavail) * v.f_frsize;
  st->min_free = static_cast<uint64_t>(c.lake.min_free_bytes);
  st->upload_on = !c.upload.bucket.empty();
  st->bucket = c.upload.bucket;
  upload::MeasureQueue(c.data_dir, &st->queued_files, &st->queued_bytes);
  st->ledger_objects = upload::CountLedger(c.data_dir);
  st->upload_pid = DirLock::Holder(upload::UploadDir(c.data_dir) + "/upload.lock");
}

// "" or why intake is stopped, with the upload backlog's share.
std::string DiskReason(const LakeStatus& st) {
  if (st.min_free == 0 || st.disk_free >= st.min_free) return "";
  std::string why = "disk low: " + std::to_string(st.disk_free >> 20) + " MiB free < lake.min_free_bytes " +
                    std::to_string(st.min_free >> 20) + " MiB; vigil run is not taking messages";
  if (st.queued_files) {
    why += "; " + std::to_string(st.queued_files) + " segment(s), " + std::to_string(st.queued_bytes >> 20) +
           " MiB wait for upload in lake/.upload (is the bucket reachable?)";
  }
  return why;
}

LakeStatus Collect(const std::string& data_dir) {
  LakeStatus st;
  const std::string lake = lake::LakeDir(data_dir);
  simdjson::dom::parser parser;
  // The writers' logs hold the lines not yet published: shown as raw's open files.
  {
    AreaStats& raw = st.areas["raw"];
    for (const auto& [id, path] : lake::ListLogs(lake)) {
      std::error_code ec;
      const uintmax_t size = fs::file_size(path, ec);
      raw.open++;
      raw.files++;
      raw.bytes += ec ? 0 : size;
    }
  }
  for (const char* area : {"raw", "archive", "quarantine"}) {
    AreaStats& a = st.areas[area];
    std::error_code ec;
    fs::recursive_directory_iterator it(lake + "/" + area, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      std::string name = it->path().filename().string();
      std::string final_name;
      if (lake::IsOpenFileName(name, &final_name)) a.open++;
      else if (!name.ends_with(".jsonl")) continue;
      a.files++;
      a.bytes += it->file_size(ec);
      std::string parent = it->path().parent_path().filename().string();
      std::string date_dir = it->path().parent_path().parent_path().filename().string();
      if (std::string_view(area) != "quarantine" && parent.starts_with("machine_id=") && date_dir.starts_with("date=")) {
        std::string& d = st.newest_date[parent.substr(11)];
        d = std::max(d, date_dir.substr(5));
      }
      if (std::string_view(area) == "quarantine") {
        // Line by line, a piece at a time: a quarantine segment is as large as
        // lake.segment_max_bytes allows, and status runs beside the daemon on a small gateway.
        // A read error ends that file's count (its files and bytes above still count).
        (void)lake::ForEachLine(lake::PosixFileSystem::Instance(), it->path().string(), [&](std::string_view line, int64_t) {
          simdjson::dom::element e;
          std::string_view reason;
          if (!parser.parse(line.data(), line.size(), false).get(e) && !e["reason"].get(reason)) {
            st.quarantine_reasons[std::string(reason)]++;
          }
          return Status::Ok();
        });
      }
    }
  }
  st.run_pid = DirLock::Holder(data_paths::RunLock(data_dir));
  st.process_pid = DirLock::Holder(data_paths::ProcessLock(data_dir));
  return st;
}

std::string Human(uint64_t b) {
  char buf[32];
  if (b >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.1f GiB", b / double(1ull << 30));
  else if (b >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", b / double(1ull << 20));
  else if (b >= 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  return buf;
}

void PrintStore(const Config& c, const Result<store::StoreStatus>& db) {
  std::printf("\nfeature store   %s\n", data_paths::Database(c.data_dir).c_str());
  if (!db) {
    std::printf("  %s\n", db.error().message().c_str());
    return;
  }
  const SensorSpec* vib = c.FindSensor("vibration");
  for (const auto& m : db->machines) {
    const std::optional<double> v = vib ? store::LatestValue(m, vib->field) : std::nullopt;
    const char* zone = v.has_value() ? store::IsoZone(v.value_or(0)) : "-";
    std::printf("  %-16s newest window %s  vibration %s (%s)  last failure %s  labels 1/0/NULL %lld/%lld/%lld\n",
                m.machine_id.c_str(), FormatTimestampMs(m.window_start_ms).c_str(), Num(v).c_str(),
                zone, m.last_failure_ms ? FormatTimestampMs(*m.last_failure_ms).c_str() : "none",
                (long long)m.label1, (long long)m.label0, (long long)m.label_null);
    std::string feats;
    for (const FeatureSpec& f : c.features) feats += "  " + f.name + "=" + Num(store::LatestValue(m, f.name));
    std::printf("   %s\n", feats.c_str());
  }
  if (db->last_batch) {
    const auto& b = *db->last_batch;
    std::printf("  last batch (of %lld): %s, %lld segments, %lld lines, %lld rows, %lld ms: %s\n", (long long)db->batches,
                FormatTimestampMs(b.finished_ms).c_str(), (long long)b.segments, (long long)b.lines, (long long)b.rows,
                (long long)(b.finished_ms - b.started_ms), b.outcome.c_str());
  } else {
    std::printf("  no batch yet\n");
  }
}

void PrintText(const std::string& data_dir, const LakeStatus& st) {
  std::printf("data directory  %s\n", data_dir.c_str());
  std::printf("daemon          %s\n", st.run_pid ? ("vigil run, pid " + std::to_string(st.run_pid)).c_str() : "not running");
  if (st.process_pid) std::printf("processor       working now, pid %d\n", st.process_pid);
  std::printf("\nlake            %10s %10s %12s\n", "segments", "open", "size");
  for (const auto& [area, a] : st.areas) {
    std::printf("  %-13s %10llu %10llu %12s\n", area.c_str(), static_cast<unsigned long long>(a.files - a.open),
                static_cast<unsigned long long>(a.open), Human(a.bytes).c_str());
  }
  std::printf("\nmachines        %zu\n", st.newest_date.size());
  for (const auto& [m, d] : st.newest_date) std::printf("  %-20s newest event date %s\n", m.c_str(), d.c_str());
  std::printf("\nquarantine by reason\n");
  if (st.quarantine_reasons.empty()) std::printf("  (none)\n");
  for (const auto& [r, n] : st.quarantine_reasons) std::printf("  %-24s %llu\n", r.c_str(), static_cast<unsigned long long>(n));
  std::printf("\ndisk            %s free (lake.min_free_bytes %s)\n", Human(st.disk_free).c_str(), Human(st.min_free).c_str());
  if (std::string why = DiskReason(st); !why.empty()) std::printf("  %s\n", why.c_str());
  std::printf("\nupload          %s\n", st.upload_on ? ("to s3://" + st.bucket).c_str() : "off (upload.bucket not set)");
  if (st.upload_on || st.queued_files || st.ledger_objects) {
    std::printf("  queued %llu segment(s), %s; uploaded (ledger) %llu%s\n", (unsigned long long)st.queued_files,
                Human(st.queued_bytes).c_str(), (unsigned long long)st.ledger_objects,
                st.upload_pid ? (", uploader pid " + std::to_string(st.upload_pid)).c_str() : "");
  }
}

void PrintJson(const std::string& data_dir, const LakeStatus& st, const Config& c,
               const Result<store::StoreStatus>& db) {
  std::string out = "{\"data_dir\":";
  AppendJsonString(data_dir, &out);
  out += ",\"daemon_pid\":" + std::to_string(st.run_pid) + ",\"processor_pid\":" + std::to_string(st.process_pid) + ",\"lake\":{";
  bool first = true;
  for (const auto& [area, a] : st.areas) {
    out += (first ? "\"" : ",\"") + area + "\":{\"segments\":" + std::to_string(a.files - a.open) +
           ",\"open_segments\":" + std::to_string(a.open) + ",\"bytes\":" + std::to_string(a.bytes) + "}";
    first = false;
  }
  out += "},\"machines\":{";
  first = true;
  for (const auto& [m, d] : st.newest_date) {
    out += first ? "" : ",";
    AppendJsonString(m, &out);
    out += ":{\"newest_event_date\":\"" + d + "\"}";
    first = false;
  }
  out += "},\"quarantine_by_reason\":{";
  first = true;
  for (const auto& [r, n] : st.quarantine_reasons) {
    out += (first ? "\"" : ",\"") + r + "\":" + std::to_string(n);
    first = false;
  }
  out += "},\"disk\":{\"free_bytes\":" + std::to_string(st.disk_free) + ",\"min_free_bytes\":" +
         std::to_string(st.min_free) + ",\"low_reason\":";
  AppendJsonString(DiskReason(st), &out);
  out += "},\"upload\":{\"bucket\":";
  AppendJsonString(st.bucket, &out);
  out += ",\"queued_segments\":" + std::to_string(st.queued_files) + ",\"queued_bytes\":" +
         std::to_string(st.queued_bytes) + ",\"ledger_objects\":" + std::to_string(st.ledger_objects) +
         ",\"uploader_pid\":" + std::to_string(st.upload_pid) + "}";
  out += ",\"feature_store\":";
  if (!db) {
    out += "null";
  } else {
    out += "{\"batches\":" + std::to_string(db->batches) + ",\"last_batch\":";
    if (db->last_batch) {
      const auto& b = *db->last_batch;
      out += "{\"finished_at\":\"" + FormatTimestampMs(b.finished_ms) + "\",\"segments\":" + std::to_string(b.segments) +
             ",\"lines\":" + std::to_string(b.lines) + ",\"rows\":" + std::to_string(b.rows) + ",\"outcome\":";
      AppendJsonString(b.outcome, &out);
      out += "}";
    } else {
      out += "null";
    }
    out += ",\"machines\":{";
    for (size_t i = 0; i < db->machines.size(); ++i) {
      out += i ? "," : "";
      AppendJsonString(db->machines[i].machine_id, &out);
      out += ":";
      store::AppendMachineJson(db->machines[i], c, /*with_id=*/false, &out);
    }
    out += "}}";
  }
  out += "}\n";
  std::fputs(out.c_str(), stdout);
}

}  // namespace

Command AddStatusCommand(CLI::App& app) {
  auto* sub = app.add_subcommand("status",
                                 "What is in a data directory: lake by area, machines, quarantine by reason,\n"
                                 "whether a daemon holds it. Example: vigil status --data-dir /var/lib/vigil --json");
  auto flags = std::make_shared<CommonFlags>();
  auto json = std::make_shared<bool>(false);
  flags->Add(sub, /*broker=*/false);
  sub->add_flag("--json", *json, "Machine-readable output");
  return {sub, [flags, json] {
            Result<Config> c = flags->Resolve();
            if (!c) return Fail("status", c.error());
            std::error_code ec;
            if (!fs::is_directory(c->data_dir, ec)) {
              return Fail("status", Status::InvalidArgument("no data directory at " + c->data_dir + " (use --data-dir)"));
            }
            LakeStatus st = Collect(c->data_dir);
            CollectUpload(*c, &st);
            Result<store::StoreStatus> db = store::ReadStatus(data_paths::Database(c->data_dir), *c);
            if (*json) {
              PrintJson(c->data_dir, st, *c, db);
            } else {
              PrintText(c->data_dir, st);
              PrintStore(*c, db);
            }
            return kExitOk;
          }};
}

}  // namespace vigil::cli
