#include "lake/lake_reader.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "common/json_text.h"
#include "common/timestamp.h"
#include "lake/paths.h"

namespace vigil::lake {
namespace {

namespace fs = std::filesystem;

bool DateInRange(const std::string& date, const LakeFilter& f) {
  Result<int64_t> day = ParseDateOrTimestampMs(date);
  if (!day) return false;
  constexpr int64_t kDay = 86'400'000;
  return *day + kDay > f.from_ms && *day < f.until_ms;
}

Status Scan(const std::string& area_dir, const LakeFilter& filter, std::vector<SegmentFile>* out) {
  std::error_code ec;
  if (!fs::is_directory(area_dir, ec)) return Status::Ok();
  for (const auto& date_dir : fs::directory_iterator(area_dir, ec)) {
    std::string dname = date_dir.path().filename().string();
    if (!dname.starts_with("date=") || !DateInRange(dname.substr(5), filter)) continue;
    for (const auto& machine_dir : fs::directory_iterator(date_dir.path(), ec)) {
      std::string mname = machine_dir.path().filename().string();
      if (!mname.starts_with("machine_id=")) continue;
      std::string machine = mname.substr(11);
      if (!filter.machines.empty() && !filter.machines.count(machine)) continue;
      for (const auto& file : fs::directory_iterator(machine_dir.path(), ec)) {
        std::string name = file.path().filename().string();
        if (name.starts_with(".") || !name.ends_with(".jsonl")) continue;  // open segments
        out->push_back({file.path().string(), dname.substr(5), machine});
      }
    }
  }
  if (ec) return Status::IoError("scan " + area_dir + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

Result<std::vector<SegmentFile>> ListSegments(const std::string& lake_dir, const LakeFilter& filter) {
  std::vector<SegmentFile> out;
  if (filter.raw) VIGIL_RETURN_IF_ERROR(Scan(RawDir(lake_dir), filter, &out));
  if (filter.archive) VIGIL_RETURN_IF_ERROR(Scan(ArchiveDir(lake_dir), filter, &out));
  std::sort(out.begin(), out.end(), [](const SegmentFile& a, const SegmentFile& b) {
    return std::tie(a.date, a.path) < std::tie(b.date, b.path);
  });
  return out;
}

Status ForEachLine(FileSystem& fs, const std::string& path,
                   const std::function<Status(std::string_view line, int64_t line_no)>& line, size_t piece) {
  // Kept by the thread from file to file: a batch reads many segments, and fresh buffers
  // cost a page fault per 4 KiB each time.
  thread_local std::string buf, next;
  buf.clear();
  uint64_t offset = 0;
  int64_t line_no = 0;
  size_t start = 0;  // of the first unfinished line in buf
  for (;;) {
    VIGIL_RETURN_IF_ERROR(fs.ReadFileAt(path, offset, piece, &next));
    offset += next.size();
    const bool eof = next.size() < piece;
    buf.erase(0, start);
    buf += next;
    const size_t data = buf.size();
    buf.append(simdjson::SIMDJSON_PADDING, '\0');
    start = 0;
    for (;;) {
      const char* nl = static_cast<const char*>(std::memchr(buf.data() + start, '\n', data - start));
      if (!nl) break;
      const size_t end = static_cast<size_t>(nl - buf.data());
      VIGIL_RETURN_IF_ERROR(line(std::string_view(buf.data() + start, end - start), ++line_no));
      start = end + 1;
    }
    buf.resize(data);
    if (eof) break;
  }
  if (start < buf.size()) {
    const size_t data = buf.size();
    buf.append(simdjson::SIMDJSON_PADDING, '\0');
    VIGIL_RETURN_IF_ERROR(line(std::string_view(buf.data() + start, data - start), ++line_no));
  }
  return Status::Ok();
}

}  // namespace vigil::lake
