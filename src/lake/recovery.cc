#include "lake/recovery.h"

#include <simdjson.h>

#include <filesystem>
#include <vector>

#include "common/logging.h"
#include "lake/paths.h"

namespace vigil::lake {
namespace {

namespace fs = std::filesystem;

struct OpenSegmentFile {
  std::string dir;
  std::string open_name;
  std::string final_name;
};

Status FindOpenSegments(const std::string& root, std::vector<OpenSegmentFile>* out) {
  std::error_code ec;
  if (!fs::exists(root, ec)) return Status::Ok();
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  if (ec) return Status::IoError("scan " + root + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Status::IoError("scan " + root + ": " + ec.message());
    if (!it->is_regular_file(ec)) continue;
    std::string name = it->path().filename().string();
    std::string final_name;
    if (IsOpenFileName(name, &final_name)) {
      out->push_back({it->path().parent_path().string(), name, final_name});
    }
  }
  return Status::Ok();
}

}  // namespace

Result<RecoveryReport> RecoverOpenSegments(
    const std::string& lake_dir, FileSystem& fsys,
    const std::function<Status(const TornPiece&)>& on_torn) {
  auto log = GetLogger("lake");
  std::vector<OpenSegmentFile> files;
  VIGIL_RETURN_IF_ERROR(FindOpenSegments(RawDir(lake_dir), &files));
  VIGIL_RETURN_IF_ERROR(FindOpenSegments(QuarantineDir(lake_dir), &files));

  RecoveryReport report;
  simdjson::dom::parser parser;
  std::string data, kept;
  for (const OpenSegmentFile& f : files) {
    const std::string open_path = f.dir + "/" + f.open_name;
    const std::string final_path = f.dir + "/" + f.final_name;
    // Still being written by a live process (e.g. a `vigil import` next to the daemon).
    if (fsys.IsLockedByAnother(open_path)) continue;
    VIGIL_RETURN_IF_ERROR(fsys.ReadFile(open_path, &data));
    kept.clear();
    int torn = 0;
    size_t pos = 0;
    while (pos < data.size()) {
      size_t nl = data.find('\n', pos);
      std::string_view line(data.data() + pos, (nl == std::string::npos ? data.size() : nl) - pos);
      simdjson::dom::element doc;
      bool good = nl != std::string::npos && !line.empty() &&
                  parser.parse(line.data(), line.size(), true).get(doc) == simdjson::SUCCESS &&
                  doc.is_object();
      if (good) {
        kept.append(line).push_back('\n');
      } else if (!line.empty()) {
        std::string rel = final_path.substr(lake_dir.size() + 1);
        VIGIL_RETURN_IF_ERROR(on_torn(TornPiece{rel, static_cast<int64_t>(pos), std::string(line)}));
        ++torn;
      }
      pos = nl == std::string::npos ? data.size() : nl + 1;
    }
    if (kept.empty()) {
      VIGIL_RETURN_IF_ERROR(fsys.Remove(open_path));
      report.segments_removed++;
      log->warn("recovery: removed empty segment {} ({} torn piece(s) quarantined)", open_path, torn);
    } else {
      if (torn > 0) VIGIL_RETURN_IF_ERROR(WriteFileAtomic(fsys, open_path, kept));
      VIGIL_RETURN_IF_ERROR(fsys.Rename(open_path, final_path));
      VIGIL_RETURN_IF_ERROR(fsys.SyncDir(f.dir));
      report.segments_published++;
      log->warn("recovery: published {} left open by a crash ({} bytes kept, {} torn piece(s) quarantined)",
                final_path, kept.size(), torn);
    }
    report.torn_pieces += torn;
  }
  return report;
}

}  // namespace vigil::lake
