#include "store/wal_vfs.h"

#include <sqlite3.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace vigil::store {
namespace {

// The unix VFS writes at most 128 KiB - 1 bytes per call (seekAndWriteFd masks the size).
constexpr int kGatherBytes = 1 << 16;

sqlite3_vfs* Base() {
  static sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
  return base;
}

// A gathered file (a WAL, or a checkpoint's database file): the base VFS's file follows this
// struct in the same allocation (szOsFile).
struct GatheredFile {
  sqlite3_file base;  // first: SQLite calls the methods below with a pointer to it
  sqlite3_file* real;
  char* buf;
  sqlite3_int64 buf_at;  // the file offset of buf[0]
  int buf_len;
  int hint_fd;               // the file's pages are sent to the disk from here on (-1: none)
  sqlite3_int64 hinted_to;   // written pages before this offset are on their way
  bool wal;                  // a WAL file (not a checkpoint's database file)
  bool commit_page_next;     // the last write was a commit frame's header: its page follows
};

constexpr size_t kGatheredFileBytes = (sizeof(GatheredFile) + 15) / 16 * 16;

GatheredFile* W(sqlite3_file* f) { return reinterpret_cast<GatheredFile*>(f); }

// Written pages start on their way to the disk every kHintBytes (sync_file_range, which
// does not wait): the commit's fdatasync then waits for the tail only, not for a whole
// batch's WAL written out at once.
constexpr sqlite3_int64 kHintBytes = sqlite3_int64{1} << 20;

int Flush(GatheredFile* w) {
  if (w->buf_len == 0) return SQLITE_OK;
  const int n = w->buf_len;
  w->buf_len = 0;  // a failed write is dropped, as SQLite's own failed write would be
  const int rc = w->real->pMethods->xWrite(w->real, w->buf, n, w->buf_at);
  const sqlite3_int64 end = w->buf_at + n;
  // A frame written over (a page changed again in the same transaction) is left to the
  // sync; only the start of the file, where the WAL starts over, begins the count again.
  if (w->buf_at == 0) w->hinted_to = 0;
  if (rc == SQLITE_OK && w->hint_fd >= 0 && end - w->hinted_to >= kHintBytes) {
    (void)sync_file_range(w->hint_fd, w->hinted_to, end - w->hinted_to, SYNC_FILE_RANGE_WRITE);
    w->hinted_to = end;
  }
  return rc;
}

int Close(sqlite3_file* f) {
  GatheredFile* w = W(f);
  const int flushed = Flush(w);
  const int closed = w->real->pMethods->xClose(w->real);
  if (w->hint_fd >= 0) ::close(w->hint_fd);  // a WAL's: no lock to lose (OpenGathered)
  std::free(w->buf);
  return flushed != SQLITE_OK ? flushed : closed;
}

int Read(sqlite3_file* f, void* out, int amt, sqlite3_int64 at) {
  GatheredFile* w = W(f);
  if (w->buf_len > 0 && at < w->buf_at + w->buf_len && at + amt > w->buf_at) {
    if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  }
  return w->real->pMethods->xRead(w->real, out, amt, at);
}

// A WAL frame's 24-byte header holds, at bytes 4-7, the database's size in pages after the
// commit for the last frame of a transaction, and 0 for every other frame.
constexpr int kFrameHeaderBytes = 24;
bool IsCommitHeader(const void* data, int amt, sqlite3_int64 at) {
  if (amt != kFrameHeaderBytes || at < 32) return false;  // the WAL's own header is 32 bytes
  const auto* b = static_cast<const unsigned char*>(data);
  return (b[4] | b[5] | b[6] | b[7]) != 0;
}

int Gather(GatheredFile* w, const void* data, int amt, sqlite3_int64 at) {
  if (w->buf_len > 0 && at == w->buf_at + w->buf_len && w->buf_len + amt <= kGatherBytes) {
    std::memcpy(w->buf + w->buf_len, data, static_cast<size_t>(amt));
    w->buf_len += amt;
    return SQLITE_OK;
  }
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;  // before anything that may overlap it
  if (amt >= kGatherBytes) return w->real->pMethods->xWrite(w->real, data, amt, at);
  std::memcpy(w->buf, data, static_cast<size_t>(amt));
  w->buf_at = at;
  w->buf_len = amt;
  return SQLITE_OK;
}

int Write(sqlite3_file* f, const void* data, int amt, sqlite3_int64 at) {
  GatheredFile* w = W(f);
  const bool commit_page = w->commit_page_next;
  w->commit_page_next = w->wal && IsCommitHeader(data, amt, at);
  if (int rc = Gather(w, data, amt, at); rc != SQLITE_OK) return rc;
  // A commit's last frame is in the file before SQLite publishes the commit to other
  // connections (in the shared WAL index, right after this write returns): without a sync
  // at each commit (synchronous=NORMAL), nothing else would write the gathered frames then.
  return commit_page ? Flush(w) : SQLITE_OK;
}

int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  GatheredFile* w = W(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xTruncate(w->real, size);
}

int Sync(sqlite3_file* f, int flags) {
  GatheredFile* w = W(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xSync(w->real, flags);
}

int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  GatheredFile* w = W(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xFileSize(w->real, size);
}

// The rest goes to the base file as it is.
int CheckReservedLock(sqlite3_file* f, int* out) { return W(f)->real->pMethods->xCheckReservedLock(W(f)->real, out); }
int FileControl(sqlite3_file* f, int op, void* arg) {
  if (op == kFlushGathered) return Flush(W(f));
  return W(f)->real->pMethods->xFileControl(W(f)->real, op, arg);
}
int SectorSize(sqlite3_file* f) { return W(f)->real->pMethods->xSectorSize(W(f)->real); }
int DeviceCharacteristics(sqlite3_file* f) { return W(f)->real->pMethods->xDeviceCharacteristics(W(f)->real); }
int ShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return W(f)->real->pMethods->xShmMap(W(f)->real, page, size, extend, out);
}
void ShmBarrier(sqlite3_file* f) { W(f)->real->pMethods->xShmBarrier(W(f)->real); }
int ShmUnmap(sqlite3_file* f, int del) { return W(f)->real->pMethods->xShmUnmap(W(f)->real, del); }
int Unfetch(sqlite3_file* f, sqlite3_int64 at, void* p) { return W(f)->real->pMethods->xUnfetch(W(f)->real, at, p); }

// Before a lock changes hands, the gathered writes are in the file: other connections look
// at the file only under locks, so none misses a write.
int Lock(sqlite3_file* f, int l) {
  if (int rc = Flush(W(f)); rc != SQLITE_OK) return rc;
  return W(f)->real->pMethods->xLock(W(f)->real, l);
}
int Unlock(sqlite3_file* f, int l) {
  if (int rc = Flush(W(f)); rc != SQLITE_OK) return rc;
  return W(f)->real->pMethods->xUnlock(W(f)->real, l);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  if (int rc = Flush(W(f)); rc != SQLITE_OK) return rc;
  return W(f)->real->pMethods->xShmLock(W(f)->real, offset, n, flags);
}
int Fetch(sqlite3_file* f, sqlite3_int64 at, int amt, void** out) {
  if (int rc = Flush(W(f)); rc != SQLITE_OK) return rc;
  return W(f)->real->pMethods->xFetch(W(f)->real, at, amt, out);
}

const sqlite3_io_methods kWalMethods = {
    1,  // no shared memory or memory mapping: SQLite uses neither on a WAL file
    Close, Read, Write, Truncate, Sync, FileSize, Lock, Unlock, CheckReservedLock, FileControl, SectorSize,
    DeviceCharacteristics,
    nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};

// The database file of a checkpoint's connection (a checkpoint writes pages in page order).
const sqlite3_io_methods kMainMethods = {
    3, Close, Read, Write, Truncate, Sync, FileSize, Lock, Unlock, CheckReservedLock, FileControl, SectorSize,
    DeviceCharacteristics, ShmMap, ShmLock, ShmBarrier, ShmUnmap, Fetch, Unfetch};

int OpenGathered(sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags, const sqlite3_io_methods* methods) {
  GatheredFile* w = W(f);
  w->base.pMethods = nullptr;  // until it is open: SQLite then skips the close
  w->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + kGatheredFileBytes);
  w->buf = static_cast<char*>(std::malloc(kGatherBytes));
  if (!w->buf) return SQLITE_NOMEM;
  w->buf_at = 0;
  w->buf_len = 0;
  w->hint_fd = -1;
  w->hinted_to = 0;
  w->wal = methods == &kWalMethods;
  w->commit_page_next = false;
  const int rc = Base()->xOpen(Base(), name, w->real, flags, out_flags);
  if (rc != SQLITE_OK || w->real->pMethods->iVersion < methods->iVersion) {
    if (w->real->pMethods) w->real->pMethods->xClose(w->real);
    std::free(w->buf);
    // A base without shared memory (never the unix VFS): the file as it is.
    return rc != SQLITE_OK ? rc : Base()->xOpen(Base(), name, f, flags, out_flags);
  }
  // Hints go through a descriptor of their own, on the WAL only: SQLite holds no lock on a
  // WAL file, while closing a second descriptor of the database file would drop every
  // POSIX lock this process holds on it (other connections' included). Without it, no
  // hints: the syncs still wait.
  if (methods == &kWalMethods) w->hint_fd = ::open(name, O_RDONLY | O_CLOEXEC);
  w->base.pMethods = methods;
  return SQLITE_OK;
}

// A WAL file is gathered on both VFSs, a database file on the checkpoints' (pAppData set).
int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  if (flags & SQLITE_OPEN_WAL) return OpenGathered(name, f, flags, out_flags, &kWalMethods);
  if ((flags & SQLITE_OPEN_MAIN_DB) && vfs->pAppData) return OpenGathered(name, f, flags, out_flags, &kMainMethods);
  return Base()->xOpen(Base(), name, f, flags, out_flags);
}

int Delete(sqlite3_vfs*, const char* name, int sync_dir) { return Base()->xDelete(Base(), name, sync_dir); }
int Access(sqlite3_vfs*, const char* name, int flags, int* out) { return Base()->xAccess(Base(), name, flags, out); }
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) { return Base()->xFullPathname(Base(), name, n, out); }
void* DlOpen(sqlite3_vfs*, const char* name) { return Base()->xDlOpen(Base(), name); }
void DlError(sqlite3_vfs*, int n, char* out) { Base()->xDlError(Base(), n, out); }
void (*DlSym(sqlite3_vfs*, void* h, const char* sym))(void) { return Base()->xDlSym(Base(), h, sym); }
void DlClose(sqlite3_vfs*, void* h) { Base()->xDlClose(Base(), h); }
int Randomness(sqlite3_vfs*, int n, char* out) { return Base()->xRandomness(Base(), n, out); }
int Sleep(sqlite3_vfs*, int us) { return Base()->xSleep(Base(), us); }
int CurrentTime(sqlite3_vfs*, double* out) { return Base()->xCurrentTime(Base(), out); }
int GetLastError(sqlite3_vfs*, int n, char* out) { return Base()->xGetLastError ? Base()->xGetLastError(Base(), n, out) : 0; }
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) { return Base()->xCurrentTimeInt64(Base(), out); }

const char* Register(sqlite3_vfs& vfs, const char* name, bool database_file) {
  vfs.iVersion = 2;
  vfs.szOsFile = static_cast<int>(kGatheredFileBytes) + Base()->szOsFile;
  vfs.mxPathname = Base()->mxPathname;
  vfs.zName = name;
  vfs.pAppData = database_file ? &vfs : nullptr;
  vfs.xOpen = Open, vfs.xDelete = Delete, vfs.xAccess = Access, vfs.xFullPathname = FullPathname;
  vfs.xDlOpen = DlOpen, vfs.xDlError = DlError, vfs.xDlSym = DlSym, vfs.xDlClose = DlClose;
  vfs.xRandomness = Randomness, vfs.xSleep = Sleep, vfs.xCurrentTime = CurrentTime;
  vfs.xGetLastError = GetLastError, vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  sqlite3_vfs_register(&vfs, /*makeDflt=*/0);
  return vfs.zName;
}

}  // namespace

const char* WalGatheringVfs() {
  static sqlite3_vfs vfs{};
  static const char* name = Register(vfs, "vigil-wal-gathering", false);
  return name;
}

const char* CheckpointVfs() {
  static sqlite3_vfs vfs{};
  static const char* name = Register(vfs, "vigil-checkpoint", true);
  return name;
}

}  // namespace vigil::store
