// vigil status: one screen about a data directory: the lake by area (files, bytes, open
// segments), machines and newest event date in the raw lake, quarantine counts by reason,
// and whether a daemon holds the directory. --json for scripts.
#include <simdjson.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "cli/commands.h"
#include "cli/common_flags.h"
#include "common/dir_lock.h"
#include "common/json_text.h"
#include "lake/paths.h"

namespace vigil::cli {
namespace {

namespace fs = std::filesystem;

struct AreaStats {
  uint64_t files = 0, bytes = 0, open = 0;
};

struct LakeStatus {
  std::map<std::string, AreaStats> areas;               // raw, archive, quarantine
  std::map<std::string, std::string> newest_date;       // machine -> newest raw/archive date
  std::map<std::string, uint64_t> quarantine_reasons;
  int run_pid = 0;
};

LakeStatus Collect(const std::string& data_dir) {
  LakeStatus st;
  const std::string lake = lake::LakeDir(data_dir);
  simdjson::dom::parser parser;
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
        simdjson::padded_string text;
        if (simdjson::padded_string::load(it->path().string()).get(text)) continue;
        std::string_view all(text.data(), text.size());
        for (size_t pos = 0; pos < all.size();) {
          size_t nl = all.find('\n', pos);
          if (nl == std::string_view::npos) nl = all.size();
          simdjson::dom::element e;
          std::string_view reason;
          if (!parser.parse(all.data() + pos, nl - pos, true).get(e) && !e["reason"].get(reason)) {
            st.quarantine_reasons[std::string(reason)]++;
          }
          pos = nl + 1;
        }
      }
    }
  }
  st.run_pid = DirLock::Holder(data_dir + "/run.lock");
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

void PrintText(const std::string& data_dir, const LakeStatus& st) {
  std::printf("data directory  %s\n", data_dir.c_str());
  std::printf("daemon          %s\n", st.run_pid ? ("vigil run, pid " + std::to_string(st.run_pid)).c_str() : "not running");
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
}

void PrintJson(const std::string& data_dir, const LakeStatus& st) {
  std::string out = "{\"data_dir\":";
  AppendJsonString(data_dir, &out);
  out += ",\"daemon_pid\":" + std::to_string(st.run_pid) + ",\"lake\":{";
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
  out += "}}\n";
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
            if (*json) PrintJson(c->data_dir, st);
            else PrintText(c->data_dir, st);
            return kExitOk;
          }};
}

}  // namespace vigil::cli
