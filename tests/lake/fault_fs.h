// A FileSystem that forwards to the real one and fails on demand: the Nth append, every
// append while "disk full", or a partial write followed by an error.
#pragma once

#include <cerrno>

#include "lake/file_system.h"

namespace vigil::testing {

class FaultyFileSystem final : public lake::FileSystem {
 public:
  int appends = 0;
  int fail_append_at = -1;  // 1-based index of the append that fails; -1 never
  bool disk_full = false;
  int syncs = 0;       // files' and filesystems'
  int file_syncs = 0;  // files' only
  int dir_syncs = 0;

  Result<std::unique_ptr<lake::WritableFile>> NewFile(const std::string& path) override {
    if (disk_full) return Status::IoError("create " + path + ": No space left on device");
    auto f = real_.NewFile(path);
    if (!f) return f.error();
    return std::unique_ptr<lake::WritableFile>(new File(*this, std::move(*f)));
  }
  bool IsLockedByAnother(const std::string& p) override { return real_.IsLockedByAnother(p); }
  Status Rename(const std::string& a, const std::string& b) override { return real_.Rename(a, b); }
  Status SyncDir(const std::string& d) override { ++dir_syncs; return real_.SyncDir(d); }
  Status SyncFilesystem(const std::string& p) override { ++syncs; return real_.SyncFilesystem(p); }
  Status CreateDirs(const std::string& d, std::vector<std::string>* c) override { return real_.CreateDirs(d, c); }
  Status ReadFile(const std::string& p, std::string* out) override { return real_.ReadFile(p, out); }
  Status ReadFileAt(const std::string& p, uint64_t offset, size_t max_len, std::string* out) override {
    return real_.ReadFileAt(p, offset, max_len, out);
  }
  Status Remove(const std::string& p) override { return real_.Remove(p); }
  bool Exists(const std::string& p) override { return real_.Exists(p); }

 private:
  class File final : public lake::WritableFile {
   public:
    File(FaultyFileSystem& fs, std::unique_ptr<lake::WritableFile> f) : fs_(fs), f_(std::move(f)) {}
    Status Append(std::string_view d) override {
      ++fs_.appends;
      if (fs_.disk_full || fs_.appends == fs_.fail_append_at) return Status::IoError("write: No space left on device");
      return f_->Append(d);
    }
    Status Sync() override {
      ++fs_.syncs, ++fs_.file_syncs;
      return f_->Sync();
    }
    Status Close() override { return f_->Close(); }
    Status ReadAt(uint64_t o, size_t n, char* out) override { return f_->ReadAt(o, n, out); }
   private:
    FaultyFileSystem& fs_;
    std::unique_ptr<lake::WritableFile> f_;
  };
  lake::PosixFileSystem real_;
};

}  // namespace vigil::testing
