#include "lake/retention.h"

#include <algorithm>
#include <climits>
#include <functional>
#include <map>
#include <optional>
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

// Sizes are summed by the hour a segment was opened: the oldest-first order without
// holding every segment (months of archive are millions of files).
constexpr int64_t kBucketMs = 3'600'000;
int64_t BucketOf(int64_t opened_ms) { return opened_ms >= 0 ? opened_ms / kBucketMs : (opened_ms + 1) / kBucketMs - 1; }

struct Sum {
  uint64_t bytes = 0, files = 0;
};

// Every regular file of the area: `file(path, bytes, opened)`, opened empty for those
// trimming never deletes (open, hidden and foreign files).
Status Walk(const std::string& area_dir,
            const std::function<void(const fs::path&, uint64_t, std::optional<int64_t>)>& file) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(area_dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code fec;
    if (!it->is_regular_file(fec)) continue;
    const uint64_t size = it->file_size(fec);
    if (fec) continue;  // removed meanwhile (a publish renames .open files)
    const std::string name = it->path().filename().string();
    std::optional<int64_t> opened;
    int64_t ms = 0;
    if (name.empty() || name[0] == '.' || !name.ends_with(".jsonl")) {
    } else if (SegmentOpenedMs(name, &ms)) {
      opened = ms;
    } else {
      auto mtime = it->last_write_time(fec);
      if (fec) continue;
      opened = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::file_clock::to_sys(mtime).time_since_epoch()).count();
    }
    file(it->path(), size, opened);
  }
  if (ec) return Status::IoError("cannot list " + area_dir + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

Result<TrimReport> TrimArea(const std::string& area_dir, const RetentionLimits& limits, int64_t now_ms,
                            uint64_t max_sorted) {
  TrimReport r;
  std::error_code ec;
  if (!fs::exists(area_dir, ec)) return r;
  // The size limit applies to what trimming can delete: open and hidden files do not
  // count, or a large file being written would empty the area and still exceed it.
  uint64_t deletable = 0;
  std::map<int64_t, Sum> by_hour;  // for a size limit only
  VIGIL_RETURN_IF_ERROR(Walk(area_dir, [&](const fs::path&, uint64_t size, std::optional<int64_t> opened) {
    r.after.bytes += size;
    r.after.files++;
    if (!opened) return;
    deletable += size;
    if (limits.max_bytes <= 0) return;
    Sum& h = by_hour[BucketOf(*opened)];
    h.bytes += size, h.files++;
  }));
  if (limits.max_age_ms <= 0 && limits.max_bytes <= 0) return r;

  // Oldest first (by opened time, then path), a segment goes while it is too old or the
  // deletable bytes exceed max_bytes. Too old: opened before age_cut. Too big: opened
  // before cut_from, then those of [cut_from, cut_from + cut_width) oldest first, sorted.
  // The hour where the limit falls is split, a thousandth at a time, while it holds more
  // than max_sorted segments (a restore can give a whole archive one file-time hour); only
  // segments of one ms are never split.
  const int64_t age_cut = limits.max_age_ms > 0 ? now_ms - limits.max_age_ms : INT64_MIN;
  int64_t cut_from = INT64_MIN, cut_width = 0;
  if (limits.max_bytes > 0 && deletable > static_cast<uint64_t>(limits.max_bytes)) {
    uint64_t need = deletable - static_cast<uint64_t>(limits.max_bytes);  // from the oldest
    std::map<int64_t, Sum> sums = std::move(by_hour);
    int64_t base = 0, width = kBucketMs;  // bucket k: [base + k * width, + width)
    for (;;) {
      Sum at;
      for (const auto& [k, sum] : sums) {
        cut_from = base + k * width, at = sum;
        if (sum.bytes >= need) break;
        need -= sum.bytes;
      }
      cut_width = width;
      if (at.files <= max_sorted || width == 1) break;
      base = cut_from, width = std::max<int64_t>(1, width / 1000);
      sums.clear();
      VIGIL_RETURN_IF_ERROR(Walk(area_dir, [&](const fs::path&, uint64_t size, std::optional<int64_t> opened) {
        if (!opened || *opened < base || *opened - base >= cut_width) return;
        Sum& s = sums[(*opened - base) / width];
        s.bytes += size, s.files++;
      }));
    }
  }
  std::set<std::string> touched_dirs;
  auto remove = [&](const std::string& path, uint64_t bytes) {
    std::error_code rec;
    if (!fs::remove(path, rec) || rec) return;  // gone already, or not ours to delete
    r.after.bytes -= bytes;
    deletable -= bytes;
    r.after.files--;
    r.removed_files++;
    r.removed_bytes += bytes;
    touched_dirs.insert(fs::path(path).parent_path().string());
  };
  std::vector<Candidate> cut;  // the segments of [cut_from, cut_from + cut_width)
  VIGIL_RETURN_IF_ERROR(Walk(area_dir, [&](const fs::path& path, uint64_t size, std::optional<int64_t> opened) {
    if (!opened) return;
    if (*opened < age_cut || *opened < cut_from) remove(path.string(), size);
    else if (cut_width > 0 && *opened - cut_from < cut_width) cut.push_back({*opened, path.string(), size});
  }));
  std::sort(cut.begin(), cut.end());
  for (const Candidate& c : cut) {
    const bool too_big = limits.max_bytes > 0 && deletable > static_cast<uint64_t>(limits.max_bytes);
    if (!too_big) break;  // sorted oldest first: the rest are newer (a failed removal: next round)
    remove(c.path, c.bytes);
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
