#include "lake/archive.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "lake/paths.h"

namespace vigil::lake {
namespace {

namespace fs = std::filesystem;

std::string ArchivePath(const std::string& lake_dir, const std::string& raw_path) {
  return ArchiveDir(lake_dir) + raw_path.substr(RawDir(lake_dir).size());
}

std::string BatchSuffix(int64_t batch_id) {
  // "-<batch id>.all.jsonl": the end of CompactedFileName(…, batch_id).
  std::string name = CompactedFileName(0, batch_id);
  return name.substr(name.rfind('-'));
}

Status MoveOne(FileSystem& fsys, const std::string& lake_dir, const std::string& path) {
  const std::string dest = ArchivePath(lake_dir, path);
  VIGIL_RETURN_IF_ERROR(fsys.CreateDirs(dest.substr(0, dest.find_last_of('/')), nullptr));
  return fsys.Rename(path, dest);
}

// A source of kCompactBelow or more is moved as it is, never copied: it is no small file
// (the small files are live ingest's publishes, kilobytes each; at a mebibyte a file's
// own cost in the file system, an inode and a directory entry, is under 0.5% of its
// size), and copying it would read, write and sync its bytes for nothing (a historian
// import's segments are megabytes). Published segments never change, so FinishArchive
// decides the same way.
Result<bool> IsBig(FileSystem& fsys, const std::string& path) {
  std::string byte;
  VIGIL_RETURN_IF_ERROR(fsys.ReadFileAt(path, kCompactBelow - 1, 1, &byte));
  return !byte.empty();
}

// Removes the files in `dir` (none, or no dir: Ok).
Status RemoveFilesIn(FileSystem& fsys, const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) files.push_back(entry.path().string());
  if (ec && ec != std::errc::no_such_file_or_directory) return Status::IoError("list " + dir + ": " + ec.message());
  for (const std::string& f : files) VIGIL_RETURN_IF_ERROR(fsys.Remove(f));
  return Status::Ok();
}

// Writes a partition's sources into one file, `st->staged`, synced if `sync`.
Status StageCompacted(FileSystem& fsys, ArchivePlan::Compacted* st, bool sync) {
  for (const std::string& s : st->sources) {
    int64_t ms = 0;
    if (SegmentOpenedMs(std::string_view(s).substr(s.find_last_of('/') + 1), &ms) && ms > 0 &&
        (st->oldest_ms == 0 || ms < st->oldest_ms)) {
      st->oldest_ms = ms;
    }
  }
  Result<std::unique_ptr<WritableFile>> f = fsys.NewFile(st->staged);
  if (!f) return f.error();
  std::string data;  // a source is under kCompactBelow: memory stays bounded
  for (const std::string& s : st->sources) {
    VIGIL_RETURN_IF_ERROR(fsys.ReadFile(s, &data));
    if (!data.empty() && data.back() != '\n') data += '\n';  // a source cut short still ends its line
    VIGIL_RETURN_IF_ERROR((*f)->Append(data));
  }
  if (sync) VIGIL_RETURN_IF_ERROR((*f)->Sync());
  return (*f)->Close();
}

}  // namespace

std::string CompactedFileName(int64_t oldest_ms, int64_t batch_id) {
  // No raw segment name ends in ".all.jsonl" (a kind is a sensor name, "failure" or empty,
  // then "-<ms>-<counter>.jsonl"), so FinishArchive can never take one for another.
  std::string name = SegmentFileName("", oldest_ms, static_cast<uint64_t>(batch_id));
  return name.insert(name.size() - 6, ".all");
}

Result<ArchivePlan> StageArchive(FileSystem& fsys, const std::string& lake_dir, std::vector<std::string> segments,
                                 const std::string& tag) {
  ArchivePlan plan;
  std::map<std::string, std::vector<std::string>> small;  // by partition
  for (std::string& s : segments) {
    Result<bool> big = IsBig(fsys, s);
    if (!big) return big.error();
    if (*big) plan.moves.push_back(std::move(s));
    else small[s.substr(0, s.find_last_of('/'))].push_back(std::move(s));
  }
  // A partition's few small segments are moved as they are; `small` keeps the partitions to
  // compact.
  for (auto p = small.begin(); p != small.end();) {
    if (p->second.size() > kCompactAbove) {
      ++p;
      continue;
    }
    for (std::string& s : p->second) plan.moves.push_back(std::move(s));
    p = small.erase(p);
  }
  const std::string staging = StagingDir(lake_dir);
  if (!small.empty()) VIGIL_RETURN_IF_ERROR(fsys.CreateDirs(staging, nullptr));
  // Many staged files are synced together, by one syncfs of the lake's filesystem after the
  // last: each fdatasync of a new file waits for a journal commit of its own (100 files:
  // 0.1-0.3 s, longer than the +1% batch at 10M that they were measured beside).
  const bool sync_together = small.size() > 4 && fsys.OnFilesystemOf(staging, lake_dir);
  for (auto& [partition, sources] : small) {
    ArchivePlan::Compacted& st = plan.compacted.emplace_back();
    st.sources = std::move(sources);
    std::sort(st.sources.begin(), st.sources.end());
    st.staged = staging + "/" + tag + "-" + std::to_string(plan.compacted.size()) + ".jsonl";
    VIGIL_RETURN_IF_ERROR(StageCompacted(fsys, &st, !sync_together));
  }
  if (sync_together) VIGIL_RETURN_IF_ERROR(fsys.SyncFilesystem(lake_dir));
  return plan;
}

Status FinishStaged(FileSystem& fsys, const std::string& lake_dir, const ArchivePlan& plan, int64_t batch_id,
                    const std::function<Status()>& after_partition) {
  // Each staged file is synced: its rename into the archive, made durable by syncing the
  // directories, comes before its sources (their only other copy) go.
  std::set<std::string> dirs;
  for (const ArchivePlan::Compacted& st : plan.compacted) {
    const std::string first = ArchivePath(lake_dir, st.sources.front());
    const std::string dir = first.substr(0, first.find_last_of('/'));
    VIGIL_RETURN_IF_ERROR(fsys.CreateDirs(dir, nullptr));
    VIGIL_RETURN_IF_ERROR(fsys.Rename(st.staged, dir + "/" + CompactedFileName(st.oldest_ms, batch_id)));
    dirs.insert(dir);
  }
  if (!plan.compacted.empty()) dirs.insert(StagingDir(lake_dir));
  // One syncfs for many directories: each fsync(2) of a directory waits for its own journal
  // commit (100 machines' directories: 50-90 ms, after the +1% command's commit), while
  // the staged files' data is already on disk. After a run's last batch no checkpoint
  // writes beside it (after the others, syncfs also waits for that one's copy). A directory
  // on another filesystem than the lake's (archive/ mounted apart) is synced on its own.
  if (dirs.size() > 4) {
    VIGIL_RETURN_IF_ERROR(fsys.SyncFilesystem(lake_dir));
    for (const std::string& dir : dirs) {
      if (!fsys.OnFilesystemOf(dir, lake_dir)) VIGIL_RETURN_IF_ERROR(fsys.SyncDir(dir));
    }
  } else {
    for (const std::string& dir : dirs) VIGIL_RETURN_IF_ERROR(fsys.SyncDir(dir));
  }
  for (const std::string& s : plan.moves) {
    VIGIL_RETURN_IF_ERROR(MoveOne(fsys, lake_dir, s));
    if (after_partition) VIGIL_RETURN_IF_ERROR(after_partition());
  }
  const std::string trash = TrashDir(lake_dir);
  if (!plan.compacted.empty()) VIGIL_RETURN_IF_ERROR(fsys.CreateDirs(trash, nullptr));
  int trashed = 0;
  for (const ArchivePlan::Compacted& st : plan.compacted) {
    // A rename that a crash loses leaves the source in raw/, consumed: FinishArchive
    // removes it then, as its batch's compacted file exists.
    for (const std::string& s : st.sources) {
      VIGIL_RETURN_IF_ERROR(fsys.Rename(s, trash + "/" + std::to_string(batch_id) + "-" + std::to_string(trashed++) + ".jsonl"));
    }
    if (after_partition) VIGIL_RETURN_IF_ERROR(after_partition());
  }
  return Status::Ok();
}

Status ArchiveSegments(FileSystem& fsys, const std::string& lake_dir, std::vector<std::string> segments,
                       int64_t batch_id, const std::function<Status()>& after_partition) {
  Result<ArchivePlan> plan = StageArchive(fsys, lake_dir, std::move(segments), std::to_string(batch_id));
  if (!plan) return plan.error();
  return FinishStaged(fsys, lake_dir, *plan, batch_id, after_partition);
}

Status ClearStaging(FileSystem& fsys, const std::string& lake_dir) { return RemoveFilesIn(fsys, StagingDir(lake_dir)); }

Status FinishArchive(FileSystem& fsys, const std::string& lake_dir, const std::string& segment, int64_t batch_id) {
  Result<bool> big = IsBig(fsys, segment);
  if (!big) return big.error();
  if (*big) return MoveOne(fsys, lake_dir, segment);  // never compacted, whatever else was
  const std::string dest = ArchivePath(lake_dir, segment);
  const std::string dir = dest.substr(0, dest.find_last_of('/'));
  const std::string suffix = BatchSuffix(batch_id);
  std::error_code ec;
  std::string stale;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name[0] == '.' && name.ends_with(suffix + std::string(kOpenSuffix))) stale = entry.path().string();
    if (!name.ends_with(suffix) || name[0] == '.') continue;
    return fsys.Remove(segment);  // its lines are in the batch's compacted file
  }
  // The crash came before the compacted file was renamed: what was staged is dropped.
  if (!stale.empty()) VIGIL_RETURN_IF_ERROR(fsys.Remove(stale));
  return MoveOne(fsys, lake_dir, segment);
}

Status EmptyTrash(FileSystem& fsys, const std::string& lake_dir) { return RemoveFilesIn(fsys, TrashDir(lake_dir)); }

}  // namespace vigil::lake
