#include "lake/file_system.h"

#include <algorithm>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace vigil::lake {
namespace {

Status Errno(const char* what, const std::string& path) {
  return Status::IoError(std::string(what) + " " + path + ": " + std::strerror(errno));
}

Status ReadExactly(int fd, const std::string& path, uint64_t offset, size_t len, char* out) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd, out + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("read", path);
    if (n == 0) return Status::IoError("read " + path + ": unexpected end of file");
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// open(2) for reading, and the file's size.
Status OpenToRead(const std::string& path, int* fd, uint64_t* size) {
  *fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (*fd < 0) return Errno("open", path);
  struct stat st;
  if (::fstat(*fd, &st) != 0) {
    Status s = Errno("stat", path);
    ::close(*fd);
    return s;
  }
  *size = static_cast<uint64_t>(st.st_size);
  return Status::Ok();
}

class PosixReadableFile final : public ReadableFile {
 public:
  PosixReadableFile(int fd, std::string path, uint64_t size) : fd_(fd), path_(std::move(path)), size_(size) {}
  ~PosixReadableFile() override { ::close(fd_); }
  uint64_t Size() const override { return size_; }
  Status ReadAt(uint64_t offset, size_t len, char* out) override { return ReadExactly(fd_, path_, offset, len, out); }

 private:
  int fd_;
  std::string path_;
  uint64_t size_;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        Status s = Errno("write", path_);
        // Never leave half a line behind: cut the file back to where this append began.
        if (done > 0 && ::ftruncate(fd_, size_) != 0) {
          return Status::IoError(s.message() + "; and could not cut the partial line off");
        }
        return s;
      }
      done += static_cast<size_t>(n);
    }
    size_ += static_cast<off_t>(data.size());
    return Status::Ok();
  }

  Status Sync() override {
    if (::fdatasync(fd_) != 0) return Errno("fdatasync", path_);
    return Status::Ok();
  }

  Status ReadAt(uint64_t offset, size_t len, char* out) override { return ReadExactly(fd_, path_, offset, len, out); }

  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return Errno("close", path_);
    return Status::Ok();
  }

 private:
  int fd_;
  std::string path_;
  off_t size_ = 0;
};

}  // namespace

Result<std::unique_ptr<WritableFile>> PosixFileSystem::NewFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", path);
  ::flock(fd, LOCK_EX | LOCK_NB);  // a fresh O_EXCL file: nobody else can hold it
  return std::unique_ptr<WritableFile>(new PosixWritableFile(fd, path));
}

bool PosixFileSystem::IsLockedByAnother(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool locked = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // also releases the lock if we got it
  return locked;
}

Status PosixFileSystem::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return Errno("rename", from + " -> " + to);
  return Status::Ok();
}

bool FileSystem::OnFilesystemOf(const std::string& path, const std::string& of) {
  struct stat a, b;
  return ::stat(path.c_str(), &a) == 0 && ::stat(of.c_str(), &b) == 0 && a.st_dev == b.st_dev;
}

Status FileSystem::Link(const std::string& from, const std::string& to) {
  if (::link(from.c_str(), to.c_str()) != 0 && errno != EEXIST) return Errno("link", from + " -> " + to);
  return Status::Ok();
}

Result<std::unique_ptr<ReadableFile>> FileSystem::OpenForReading(const std::string& path) {
  int fd = -1;
  uint64_t size = 0;
  VIGIL_RETURN_IF_ERROR(OpenToRead(path, &fd, &size));
  return std::unique_ptr<ReadableFile>(new PosixReadableFile(fd, path, size));
}

Status PosixFileSystem::SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open dir", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("fsync dir", dir);
  return Status::Ok();
}

Status PosixFileSystem::SyncFilesystem(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  int rc = ::syncfs(fd);
  ::close(fd);
  if (rc != 0) return Errno("syncfs", path);
  return Status::Ok();
}

Status PosixFileSystem::CreateDirs(const std::string& dir, std::vector<std::string>* created) {
  if (dir.empty()) return Status::Ok();
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    errno = ENOTDIR;
    return Errno("mkdir", dir);
  }
  size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    VIGIL_RETURN_IF_ERROR(CreateDirs(dir.substr(0, slash), created));
  }
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir", dir);
  if (created) created->push_back(dir);
  return Status::Ok();
}

Status PosixFileSystem::ReadFile(const std::string& path, std::string* out) {
  return ReadFileAt(path, 0, SIZE_MAX, out);
}

Status PosixFileSystem::ReadFileAt(const std::string& path, uint64_t offset, size_t max_len, std::string* out) {
  int fd = -1;
  uint64_t size = 0;
  VIGIL_RETURN_IF_ERROR(OpenToRead(path, &fd, &size));
  // Sized by what is left of the file: a small file never costs a whole piece.
  max_len = static_cast<size_t>(std::min<uint64_t>(max_len, size > offset ? size - offset : 0));
  out->resize(max_len);
  size_t got = 0;
  while (got < max_len) {
    ssize_t n = ::pread(fd, out->data() + got, max_len - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Errno("read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  out->resize(got);
  return Status::Ok();
}

Status PosixFileSystem::Remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return Errno("remove", path);
  return Status::Ok();
}

bool PosixFileSystem::Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

PosixFileSystem& PosixFileSystem::Instance() {
  static PosixFileSystem fs;
  return fs;
}

Status WriteFileAtomic(FileSystem& fs, const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  if (fs.Exists(tmp)) VIGIL_RETURN_IF_ERROR(fs.Remove(tmp));
  Result<std::unique_ptr<WritableFile>> f = fs.NewFile(tmp);
  if (!f) return f.error();
  VIGIL_RETURN_IF_ERROR((*f)->Append(data));
  VIGIL_RETURN_IF_ERROR((*f)->Sync());
  VIGIL_RETURN_IF_ERROR((*f)->Close());
  VIGIL_RETURN_IF_ERROR(fs.Rename(tmp, path));
  size_t slash = path.find_last_of('/');
  return fs.SyncDir(slash == std::string::npos ? "." : path.substr(0, slash));
}

}  // namespace vigil::lake
