#include "lake/paths.h"

#include <cstdio>

namespace vigil::lake {

std::string LakeDir(const std::string& data_dir) { return data_dir + "/lake"; }
std::string RawDir(const std::string& lake_dir) { return lake_dir + "/raw"; }
std::string ArchiveDir(const std::string& lake_dir) { return lake_dir + "/archive"; }
std::string QuarantineDir(const std::string& lake_dir) { return lake_dir + "/quarantine"; }

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
