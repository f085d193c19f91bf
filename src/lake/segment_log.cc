#include "lake/segment_log.h"

#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/logging.h"
#include "lake/lake_reader.h"
#include "lake/paths.h"

namespace vigil::lake {
namespace {

namespace fs = std::filesystem;

bool IsDate(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9')) return false;
  }
  return true;
}

// A key line read back from a log decides where files are written: after a power cut it
// may hold anything, so only the two partition shapes the writer makes are accepted.
bool IsSafeKey(std::string_view partition, std::string_view kind) {
  constexpr std::string_view kQuarantine = "quarantine/date=";
  if (partition.starts_with(kQuarantine)) {
    return kind.empty() && IsDate(partition.substr(kQuarantine.size()));
  }
  constexpr std::string_view kRaw = "raw/date=";
  constexpr std::string_view kMachine = "/machine_id=";
  // A raw kind is a sensor name or "failure": the same rule as a machine id.
  if (!partition.starts_with(kRaw) || !IsValidMachineId(kind)) return false;
  std::string_view rest = partition.substr(kRaw.size());
  if (rest.size() < 10 || !IsDate(rest.substr(0, 10)) || !rest.substr(10).starts_with(kMachine)) return false;
  return IsValidMachineId(rest.substr(10 + kMachine.size()));
}

struct Staged {
  std::string dir;
  std::string open_path;
  std::string final_path;
};

// A stream's lines go through memory this much at a time: a segment may be configured up
// to 1 TiB (lake.segment_max_bytes), and a publish must not need its size in memory.
constexpr size_t kStagePiece = size_t{1} << 20;

// Calls piece(bytes, &stop) for the stream's lines in order, read kStagePiece bytes at a
// time into *buf (adjacent small extents gathered into one piece), until *stop is set.
Status ForEachPiece(const LogStream& s, const LogReader& read, std::string* buf,
                    const std::function<Status(std::string_view, bool*)>& piece) {
  buf->resize(static_cast<size_t>(std::min<uint64_t>(kStagePiece, s.bytes)));  // a small stream: its size
  size_t used = 0;
  bool stop = false;
  for (const LogExtent& e : s.extents) {
    for (uint64_t done = 0; done < e.length && !stop;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(e.length - done, buf->size() - used));
      VIGIL_RETURN_IF_ERROR(read(e.offset + done, n, buf->data() + used));
      used += n, done += n;
      if (used == buf->size()) {
        VIGIL_RETURN_IF_ERROR(piece(std::string_view(buf->data(), used), &stop));
        used = 0;
      }
    }
    if (stop) return Status::Ok();
  }
  if (used > 0) return piece(std::string_view(buf->data(), used), &stop);
  return Status::Ok();
}

// True when the file at path holds exactly the stream's lines (compared a piece at a time).
Result<bool> SameContent(FileSystem& fsys, const std::string& path, const LogStream& s, const LogReader& read,
                         std::string* buf, std::string* existing) {
  Result<std::unique_ptr<ReadableFile>> file = fsys.OpenForReading(path);
  if (!file) return file.error();
  if ((*file)->Size() != s.bytes) return false;
  bool same = true;
  uint64_t at = 0;
  auto compare = [&](std::string_view piece, bool* stop) -> Status {
    existing->resize(piece.size());
    VIGIL_RETURN_IF_ERROR((*file)->ReadAt(at, piece.size(), existing->data()));
    at += piece.size();
    same = piece == *existing;
    *stop = !same;
    return Status::Ok();
  };
  VIGIL_RETURN_IF_ERROR(ForEachPiece(s, read, buf, compare));
  return same;
}

// Writes one stream's lines to ".<name>.open" in its partition; sets *staged, or leaves it
// empty when the same segment is already published.
Status StageStream(FileSystem& fsys, const std::string& lake_dir, int64_t log_id, const LogStream& s,
                   const LogReader& read, bool verify_existing, std::string* buf,
                   std::string* existing, Staged* staged) {
  const std::string dir = lake_dir + "/" + s.partition;
  std::string name = SegmentFileName(s.kind, log_id, s.index);
  // A name taken by other content (a clock stepped back to an earlier log's id) moves this
  // stream to a counter no log uses (logs number their streams from 1).
  for (uint64_t alt = 1; fsys.Exists(dir + "/" + name); ++alt) {
    if (verify_existing && alt == 1) {
      Result<bool> same = SameContent(fsys, dir + "/" + name, s, read, buf, existing);
      if (!same) return same.error();
      if (*same) {
        staged->dir.clear();
        staged->final_path = dir + "/" + name;
        return Status::Ok();
      }
    }
    name = SegmentFileName(s.kind, log_id, s.index + alt * 1'000'000'000ULL);
  }
  staged->dir = dir;
  staged->open_path = dir + "/" + OpenFileName(name);
  staged->final_path = dir + "/" + name;
  // Left by a publish of this log cut short: rewritten whole below.
  if (fsys.Exists(staged->open_path)) VIGIL_RETURN_IF_ERROR(fsys.Remove(staged->open_path));
  Result<std::unique_ptr<WritableFile>> f = fsys.NewFile(staged->open_path);
  if (!f) {
    // The processor removes emptied raw partitions: make it again and retry once.
    VIGIL_RETURN_IF_ERROR(fsys.CreateDirs(dir, nullptr));
    f = fsys.NewFile(staged->open_path);
    if (!f) return f.error();
  }
  VIGIL_RETURN_IF_ERROR(ForEachPiece(s, read, buf, [&](std::string_view piece, bool*) { return (*f)->Append(piece); }));
  return (*f)->Close();
}

}  // namespace

bool LogIndex::IsCurrent(std::string_view partition, std::string_view kind) const {
  if (current_ == SIZE_MAX) return false;
  const LogStream& s = streams_[current_];
  return s.partition == partition && s.kind == kind;
}

uint64_t LogIndex::Add(std::string_view partition, std::string_view kind, uint64_t offset, uint64_t length) {
  if (!IsCurrent(partition, kind)) {
    key_buf_.assign(partition).push_back('\t');
    key_buf_.append(kind);
    auto [it, inserted] = by_key_.try_emplace(key_buf_, streams_.size());
    if (inserted) {
      LogStream s;
      s.partition = std::string(partition);
      s.kind = std::string(kind);
      s.index = streams_.size() + 1;
      streams_.push_back(std::move(s));
    }
    current_ = it->second;
  }
  LogStream& s = streams_[current_];
  if (!s.extents.empty() && s.extents.back().offset + s.extents.back().length == offset) {
    s.extents.back().length += length;
  } else {
    s.extents.push_back({offset, length});
  }
  s.bytes += length;
  ++lines_;
  return s.bytes;
}

void AppendLogRecord(std::string_view partition, std::string_view kind, std::string_view line,
                     bool new_stream, std::string* out) {
  if (new_stream) {
    out->push_back('#');
    out->append(partition).push_back('\t');
    out->append(kind).push_back('\n');
  }
  out->append(line);
}

Result<PublishResult> PublishLog(FileSystem& fsys, const std::string& lake_dir, int64_t log_id,
                                 const LogIndex& index, const LogReader& read, FsyncPolicy fsync,
                                 bool verify_existing) {
  PublishResult result;
  std::vector<Staged> staged;
  staged.reserve(index.streams().size());
  std::string buf, existing;
  // Raw segments (staged or already published) as (partition, final path): queued for upload below.
  std::vector<std::pair<std::string, std::string>> raw;
  for (const LogStream& s : index.streams()) {
    VIGIL_RETURN_IF_ERROR(fsys.CreateDirs(lake_dir + "/" + s.partition, nullptr));
    Staged one;
    VIGIL_RETURN_IF_ERROR(StageStream(fsys, lake_dir, log_id, s, read, verify_existing, &buf, &existing, &one));
    if (s.partition.starts_with("raw/")) raw.emplace_back(s.partition, one.final_path);
    if (one.dir.empty()) {
      result.already++;
    } else {
      staged.push_back(std::move(one));
    }
  }
  // One syncfs makes every staged file durable before any becomes visible, a second one
  // the renames before the log (the only other copy) is removed by the caller.
  if (fsync != FsyncPolicy::kNever && !staged.empty()) VIGIL_RETURN_IF_ERROR(fsys.SyncFilesystem(lake_dir));
  for (const Staged& s : staged) {
    VIGIL_RETURN_IF_ERROR(fsys.Rename(s.open_path, s.final_path));
    result.segments++;
  }
  // The upload queue (lake/paths.h): linked after the rename and before the log goes, so a
  // crash in between is completed by recovery (verify_existing finds the segment, links it).
  if (const std::string queue = UploadQueueDir(lake_dir); !raw.empty() && fsys.Exists(queue)) {
    for (const auto& [partition, final_path] : raw) {
      const std::string dir = queue + "/" + partition;
      VIGIL_RETURN_IF_ERROR(fsys.CreateDirs(dir, nullptr));
      VIGIL_RETURN_IF_ERROR(fsys.Link(final_path, dir + "/" + final_path.substr(final_path.rfind('/') + 1)));
    }
  }
  if (fsync != FsyncPolicy::kNever && !staged.empty()) VIGIL_RETURN_IF_ERROR(fsys.SyncFilesystem(lake_dir));
  return result;
}

Status ListLogs(const std::string& lake_dir, std::vector<std::pair<int64_t, std::string>>* logs) {
  logs->clear();
  const std::string wal = WalDir(lake_dir);
  std::error_code ec;
  if (!fs::is_directory(wal, ec)) return Status::Ok();
  for (const auto& entry : fs::directory_iterator(wal, ec)) {
    int64_t id = 0;
    if (LogIdFromName(entry.path().filename().string(), &id)) logs->emplace_back(id, entry.path().string());
  }
  if (ec) return Status::IoError("scan " + wal + ": " + ec.message());
  std::sort(logs->begin(), logs->end());
  return Status::Ok();
}

std::vector<std::pair<int64_t, std::string>> ListLogs(const std::string& lake_dir) {
  std::vector<std::pair<int64_t, std::string>> logs;
  (void)ListLogs(lake_dir, &logs);  // a view: what cannot be listed is not shown
  return logs;
}

std::vector<std::string> NewestLogLines(const std::string& lake_dir, std::string_view prefix, size_t n,
                                        size_t tail_bytes) {
  std::vector<std::string> lines;
  for (const auto& [id, path] : ListLogs(lake_dir)) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    const std::streamoff size = in.tellg();
    if (size <= 0) continue;
    const std::streamoff from = std::max<std::streamoff>(0, size - static_cast<std::streamoff>(tail_bytes));
    in.seekg(from);
    std::string line;
    if (from > 0) std::getline(in, line);  // a partial first line
    bool wanted = false;  // unknown until the first key line of the tail
    while (std::getline(in, line)) {
      if (in.eof()) break;  // no newline yet: being written
      if (!line.empty() && line[0] == '#') {
        wanted = std::string_view(line).substr(1).starts_with(prefix);
      } else if (wanted) {
        lines.push_back(line);
      }
    }
  }
  if (lines.size() > n) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(n));
  return lines;
}

Result<RecoveryReport> RecoverLogs(const std::string& lake_dir, FileSystem& fsys, FsyncPolicy fsync,
                                   const std::function<Status(const TornPiece&)>& on_torn, size_t piece) {
  RecoveryReport report;
  std::vector<std::pair<int64_t, std::string>> logs;
  VIGIL_RETURN_IF_ERROR(ListLogs(lake_dir, &logs));

  auto log = GetLogger("lake");
  simdjson::dom::parser parser;
  for (const auto& [id, path] : logs) {
    if (fsys.IsLockedByAnother(path)) continue;  // a live writer's (an import beside the daemon)
    // Never whole in memory: a log holds up to lake.log_max_bytes (256 MiB by default) of
    // every stream. It is indexed a piece at a time, and each stream's lines are then read
    // back from the file, as a live publish reads them.
    Result<std::unique_ptr<ReadableFile>> file = fsys.OpenForReading(path);
    if (!file) return file.error();
    const uint64_t size = (*file)->Size();
    const std::string rel = path.substr(lake_dir.size() + 1);
    LogIndex index;
    std::string partition, kind;
    bool have_key = false;
    int torn = 0;
    uint64_t pos = 0;
    auto index_line = [&](std::string_view line, int64_t) -> Status {
      const uint64_t at = pos;
      pos += line.size() + 1;
      bool good = at + line.size() < size && !line.empty();  // a last line without its '\n' is torn
      if (good && line[0] == '#') {
        const size_t tab = line.find('\t');
        good = tab != std::string_view::npos && IsSafeKey(line.substr(1, tab - 1), line.substr(tab + 1));
        if (good) {
          partition.assign(line.substr(1, tab - 1));
          kind.assign(line.substr(tab + 1));
        }
        have_key = good;  // data after a bad key line has no safe place: it is torn too
      } else if (good) {
        simdjson::dom::element doc;  // ForEachLine pads every line: no copy
        good = have_key && parser.parse(line.data(), line.size(), false).get(doc) == simdjson::SUCCESS &&
               doc.is_object();
        if (good) (void)index.Add(partition, kind, at, line.size() + 1);
      }
      if (!good && !line.empty()) {
        VIGIL_RETURN_IF_ERROR(on_torn(TornPiece{rel, static_cast<int64_t>(at), std::string(line)}));
        ++torn;
      }
      return Status::Ok();
    };
    VIGIL_RETURN_IF_ERROR(ForEachLine(fsys, path, index_line, piece));
    ReadableFile& f = **file;
    LogReader read = [&f](uint64_t offset, size_t len, char* out) { return f.ReadAt(offset, len, out); };
    Result<PublishResult> published = PublishLog(fsys, lake_dir, id, index, read, fsync, /*verify_existing=*/true);
    if (!published) return published.error();
    file->reset();
    VIGIL_RETURN_IF_ERROR(fsys.Remove(path));
    report.logs_recovered++;
    report.segments_published += static_cast<int>(published->segments);
    report.torn_pieces += torn;
    log->warn("recovery: log {} left by a crash: {} line(s) in {} segment(s) published ({} already), {} torn piece(s) quarantined",
              path, index.lines(), published->segments, published->already, torn);
  }
  return report;
}

}  // namespace vigil::lake
