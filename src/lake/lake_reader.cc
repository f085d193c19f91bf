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

// The dates (YYYY-MM-DD) of an area's partitions that can hold events in the filter.
Status ListDates(const std::string& area_dir, const LakeFilter& filter, std::vector<std::string>* out) {
  std::error_code ec;
  if (!fs::is_directory(area_dir, ec)) return Status::Ok();
  for (const auto& date_dir : fs::directory_iterator(area_dir, ec)) {
    std::string dname = date_dir.path().filename().string();
    if (dname.starts_with("date=") && DateInRange(dname.substr(5), filter)) out->push_back(dname.substr(5));
  }
  if (ec) return Status::IoError("scan " + area_dir + ": " + ec.message());
  return Status::Ok();
}

// One date's segments of an area.
Status ScanDate(const std::string& area_dir, const std::string& date, const LakeFilter& filter, std::vector<SegmentFile>* out) {
  std::error_code ec;
  const fs::path date_dir = area_dir + "/date=" + date;
  if (!fs::is_directory(date_dir, ec)) return Status::Ok();
  for (const auto& machine_dir : fs::directory_iterator(date_dir, ec)) {
    std::string mname = machine_dir.path().filename().string();
    if (!mname.starts_with("machine_id=")) continue;
    std::string machine = mname.substr(11);
    if (!filter.machines.empty() && !filter.machines.count(machine)) continue;
    for (const auto& file : fs::directory_iterator(machine_dir.path(), ec)) {
      std::string name = file.path().filename().string();
      if (name.starts_with(".") || !name.ends_with(".jsonl")) continue;  // open segments
      out->push_back({file.path().string(), date, machine});
    }
  }
  if (ec) return Status::IoError("scan " + date_dir.string() + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

Result<std::vector<SegmentFile>> ListSegments(const std::string& lake_dir, const LakeFilter& filter) {
  std::vector<SegmentFile> out;
  SegmentCursor cursor(lake_dir, filter);
  for (;;) {
    Result<const SegmentFile*> s = cursor.Peek();
    if (!s) return s.error();
    if (!*s) return out;
    out.push_back(**s);
    cursor.Take();
  }
}

Result<const SegmentFile*> SegmentCursor::Peek() {
  if (!listed_dates_) {
    if (filter_.raw) VIGIL_RETURN_IF_ERROR(ListDates(RawDir(lake_dir_), filter_, &dates_));
    if (filter_.archive) VIGIL_RETURN_IF_ERROR(ListDates(ArchiveDir(lake_dir_), filter_, &dates_));
    std::sort(dates_.begin(), dates_.end());
    dates_.erase(std::unique(dates_.begin(), dates_.end()), dates_.end());
    listed_dates_ = true;
  }
  while (pos_ == date_.size()) {
    if (next_date_ == dates_.size()) return nullptr;
    const std::string& date = dates_[next_date_++];
    date_.clear();
    pos_ = 0;
    if (filter_.raw) VIGIL_RETURN_IF_ERROR(ScanDate(RawDir(lake_dir_), date, filter_, &date_));
    if (filter_.archive) VIGIL_RETURN_IF_ERROR(ScanDate(ArchiveDir(lake_dir_), date, filter_, &date_));
    std::sort(date_.begin(), date_.end(), [](const SegmentFile& a, const SegmentFile& b) { return a.path < b.path; });
  }
  return &date_[pos_];
}

Status ForEachLine(FileSystem& fs, const std::string& path,
                   const std::function<Status(std::string_view line, int64_t line_no)>& line, size_t piece) {
  // Kept by the thread from file to file: a batch reads many segments, and fresh buffers
  // cost a page fault per 4 KiB each time. Lines are handed out where they were read; only
  // a line across two pieces is put together in `carry`.
  thread_local std::string buf, carry;
  carry.clear();
  uint64_t offset = 0;
  int64_t line_no = 0;
  auto hand_out_carry = [&] {
    const size_t n = carry.size();
    carry.append(simdjson::SIMDJSON_PADDING, '\0');
    Status st = line(std::string_view(carry.data(), n), ++line_no);
    carry.clear();
    return st;
  };
  for (bool eof = false; !eof;) {
    buf.reserve(piece + simdjson::SIMDJSON_PADDING);  // the padding below never moves buf
    VIGIL_RETURN_IF_ERROR(fs.ReadFileAt(path, offset, piece, &buf));
    offset += buf.size();
    eof = buf.size() < piece;
    const size_t data = buf.size();
    buf.append(simdjson::SIMDJSON_PADDING, '\0');
    const char* p = buf.data();
    const char* const end = p + data;
    if (!carry.empty()) {  // the rest of the unfinished line, if it ends in this piece
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', data));
      carry.append(p, nl ? static_cast<size_t>(nl - p) : data);
      if (!nl) continue;
      VIGIL_RETURN_IF_ERROR(hand_out_carry());
      p = nl + 1;
    }
    for (const char* nl; (nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p))));) {
      VIGIL_RETURN_IF_ERROR(line(std::string_view(p, static_cast<size_t>(nl - p)), ++line_no));
      p = nl + 1;
    }
    carry.assign(p, static_cast<size_t>(end - p));
  }
  if (!carry.empty()) return hand_out_carry();  // the last line, without its '\n'
  return Status::Ok();
}

}  // namespace vigil::lake
