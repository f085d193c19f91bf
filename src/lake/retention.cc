#include "lake/retention.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>
#include <vector>

#include "common/timestamp.h"
#include "lake/paths.h"

namespace vigil::lake {
namespace {

namespace fs = std::filesystem;

struct Candidate {
  int64_t opened_ms;
  std::string path;
  uint64_t bytes;
  bool operator<(const Candidate& o) const { return std::tie(opened_ms, path) < std::tie(o.opened_ms, o.path); }
};

}  // namespace

Result<TrimReport> TrimArea(const std::string& area_dir, const RetentionLimits& limits, int64_t now_ms) {
  TrimReport r;
  std::error_code ec;
  if (!fs::exists(area_dir, ec)) return r;
  std::vector<Candidate> segments;
  // The size limit applies to what trimming can delete: open and hidden files do not
  // count, or a large file being written would empty the area and still exceed it.
  uint64_t deletable = 0;
  for (auto it = fs::recursive_directory_iterator(area_dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code fec;
    if (!it->is_regular_file(fec)) continue;
    const uint64_t size = it->file_size(fec);
    if (fec) continue;  // removed meanwhile (a publish renames .open files)
    r.after.bytes += size;
    r.after.files++;
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || !name.ends_with(".jsonl")) continue;
    int64_t opened = 0;
    if (!SegmentOpenedMs(name, &opened)) {
      auto mtime = it->last_write_time(fec);
      if (fec) continue;
      opened = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::file_clock::to_sys(mtime).time_since_epoch()).count();
    }
    segments.push_back({opened, it->path().string(), size});
    deletable += size;
  }
  if (ec) return Status::IoError("cannot list " + area_dir + ": " + ec.message());
  if (limits.max_age_ms <= 0 && limits.max_bytes <= 0) return r;

  std::sort(segments.begin(), segments.end());
  std::set<std::string> touched_dirs;
  for (const Candidate& c : segments) {
    const bool too_old = limits.max_age_ms > 0 && now_ms - c.opened_ms > limits.max_age_ms;
    const bool too_big = limits.max_bytes > 0 && deletable > static_cast<uint64_t>(limits.max_bytes);
    if (!too_old && !too_big) break;  // sorted oldest first: the rest are newer
    std::error_code rec;
    if (!fs::remove(c.path, rec) || rec) continue;  // gone already, or not ours to delete
    r.after.bytes -= c.bytes;
    deletable -= c.bytes;
    r.after.files--;
    r.removed_files++;
    r.removed_bytes += c.bytes;
    touched_dirs.insert(fs::path(c.path).parent_path().string());
  }

  // Empty partitions of old dates go too (deepest first: machine_id=, then date=).
  const std::string keep_from = FormatDate(now_ms - 86'400'000);
  for (std::string dir : touched_dirs) {
    while (dir.size() > area_dir.size() && dir.starts_with(area_dir)) {
      const size_t at = dir.find("/date=");
      if (at == std::string::npos || dir.compare(at + 6, kDateLen, keep_from) >= 0) break;
      std::error_code rec;
      if (!fs::is_empty(dir, rec) || rec || !fs::remove(dir, rec)) break;
      dir = fs::path(dir).parent_path().string();
    }
  }
  return r;
}

}  // namespace vigil::lake
