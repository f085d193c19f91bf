#include "lake/paths.h"

#include <charconv>
#include <cstdio>

#include "common/names.h"

namespace vigil::lake {

std::string LakeDir(const std::string& data_dir) { return data_dir + "/lake"; }
std::string RawDir(const std::string& lake_dir) { return lake_dir + "/raw"; }
std::string ArchiveDir(const std::string& lake_dir) { return lake_dir + "/archive"; }
std::string QuarantineDir(const std::string& lake_dir) { return lake_dir + "/quarantine"; }
std::string WalDir(const std::string& lake_dir) { return lake_dir + "/.wal"; }
std::string UploadQueueDir(const std::string& lake_dir) { return lake_dir + "/.upload"; }
std::string TrashDir(const std::string& lake_dir) { return lake_dir + "/.trash"; }
std::string StagingDir(const std::string& lake_dir) { return lake_dir + "/.staging"; }

std::string LogFileName(int64_t log_id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%013lld.log", static_cast<long long>(log_id));
  return buf;
}

bool LogIdFromName(std::string_view f, int64_t* log_id) {
  if (!f.ends_with(".log") || f.size() <= 4) return false;
  auto [p, ec] = std::from_chars(f.data(), f.data() + f.size() - 4, *log_id);
  return ec == std::errc() && p == f.data() + f.size() - 4 && *log_id >= 0;
}

std::string RawPartition(std::string_view date, std::string_view machine_id) {
  std::string p = "raw/date=";
  p.append(date).append("/machine_id=").append(machine_id);
  return p;
}

std::string QuarantinePartition(std::string_view date) {
  return std::string("quarantine/date=").append(date);
}

std::string SegmentFileName(std::string_view kind, int64_t opened_ms, uint64_t counter) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%013lld-%06llu.jsonl", static_cast<long long>(opened_ms),
                static_cast<unsigned long long>(counter));
  std::string name(kind);
  if (!name.empty()) name.push_back('-');
  return name.append(buf);
}

bool SegmentOpenedMs(std::string_view name, int64_t* ms) {
  const size_t end = name.rfind('-');
  if (end == std::string_view::npos || end == 0) return false;
  const size_t begin = name.rfind('-', end - 1);
  const size_t from = begin == std::string_view::npos ? 0 : begin + 1;
  auto [p, ec] = std::from_chars(name.data() + from, name.data() + end, *ms);
  return ec == std::errc() && p == name.data() + end;
}

bool IsValidMachineId(std::string_view id) { return IsSafeName(id); }

std::string OpenFileName(std::string_view final_name) {
  return std::string(".").append(final_name).append(kOpenSuffix);
}

bool IsOpenFileName(std::string_view f, std::string* final_name) {
  constexpr std::string_view kTail = ".jsonl.open";
  if (f.size() <= kTail.size() + 1 || f[0] != '.' || !f.ends_with(kTail)) return false;
  *final_name = std::string(f.substr(1, f.size() - 1 - kOpenSuffix.size()));
  return true;
}

}  // namespace vigil::lake
