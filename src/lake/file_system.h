// FileSystem: the lake's only door to the disk, behind an interface so tests can inject
// faults (fail the Nth write, disk full) without a VFS. PosixFileSystem is the real one.
// Errors are Status values carrying the path and strerror; nothing throws.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/status.h"

namespace vigil::lake {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes all of data or nothing: a failed append leaves the file as it was (a partial
  // write is cut off again), so a line is never torn by an I/O error.
  virtual Status Append(std::string_view data) = 0;
  virtual Status Sync() = 0;  // fdatasync
  virtual Status Close() = 0;
  // Reads exactly len bytes at offset of what was appended (pread): the lake's log is read
  // back at publish time without a second descriptor.
  virtual Status ReadAt(uint64_t offset, size_t len, char* out) = 0;
};

// A file opened to be read at offsets (pread) through one descriptor: a big file read back
// a piece at a time.
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  virtual uint64_t Size() const = 0;  // at open
  // Reads exactly len bytes at offset.
  virtual Status ReadAt(uint64_t offset, size_t len, char* out) = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Creates a new file for appending (and reading back); fails if it exists. The file stays flock(2)ed by this
  // process until closed (or the process dies), so other processes can tell it is live.
  virtual Result<std::unique_ptr<WritableFile>> NewFile(const std::string& path) = 0;
  // True when a live process holds the file open through NewFile (see above).
  virtual bool IsLockedByAnother(const std::string& path) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status SyncDir(const std::string& dir) = 0;
  // syncfs(2) of the filesystem holding path: one call flushes every file written there.
  virtual Status SyncFilesystem(const std::string& path) = 0;
  // True when path lies on the filesystem holding of (same device), so that
  // SyncFilesystem(of) covers it; false when unknown. Not pure: the default is stat(2).
  virtual bool OnFilesystemOf(const std::string& path, const std::string& of);
  // mkdir -p; *created (if given) receives the directories that did not exist.
  virtual Status CreateDirs(const std::string& dir, std::vector<std::string>* created) = 0;
  virtual Status ReadFile(const std::string& path, std::string* out) = 0;
  // Up to max_len bytes from offset (fewer at the end of the file; none past it): big files
  // are read a piece at a time, in bounded memory.
  virtual Status ReadFileAt(const std::string& path, uint64_t offset, size_t max_len, std::string* out) = 0;
  virtual Status Remove(const std::string& path) = 0;
  virtual bool Exists(const std::string& path) = 0;
  // A hard link `to` of the file `from` (link(2)); Ok when `to` exists already. Not pure:
  // the default is the POSIX call, which fault-injecting wrappers may keep.
  virtual Status Link(const std::string& from, const std::string& to);
  // An existing file, for ReadableFile reads. Not pure: the default is the POSIX open(2).
  virtual Result<std::unique_ptr<ReadableFile>> OpenForReading(const std::string& path);
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> NewFile(const std::string& path) override;
  bool IsLockedByAnother(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Status SyncFilesystem(const std::string& path) override;
  Status CreateDirs(const std::string& dir, std::vector<std::string>* created) override;
  Status ReadFileAt(const std::string& path, uint64_t offset, size_t max_len, std::string* out) override;
  Status ReadFile(const std::string& path, std::string* out) override;
  Status Remove(const std::string& path) override;
  bool Exists(const std::string& path) override;

  static PosixFileSystem& Instance();
};

// Writes a whole file atomically: <path>.tmp, fsync, rename, fsync dir.
Status WriteFileAtomic(FileSystem& fs, const std::string& path, std::string_view data);

}  // namespace vigil::lake
