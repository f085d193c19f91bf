#include "store/db.h"

#include <sqlite3.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>

#include "common/huge_pages.h"
#include "store/wal_vfs.h"

namespace vigil::store {
namespace {

// SQLite's page caches take their pages from one region of their own, which the kernel may
// back with 2 MiB pages (MADV_HUGEPAGE). The processor's 8 MiB cache is the largest memory
// a batch touches, and touched 4 KiB at a time it cost a page fault each, about 2,300 a
// run, at ~10 us a fault on the VM we measure on (+1% at 10M: the command 203.5 -> 168.5
// ms, its faults 4,430 -> 2,040; BENCHMARKS.md). Pages past the region come from malloc, as
// without it; so do all if the kernel says no. True if set up; only possible before SQLite
// initializes (at its first open).
bool GivePageCacheARegion() {
  int header = 0;
  if (sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &header) != SQLITE_OK) return false;
  const size_t slot = (4096 + static_cast<size_t>(header) + 7) / 8 * 8;  // a 4 KiB page (SQLite's default size)
  const size_t pages = kProcessorCacheKiB / 4 + 512;  // the processor's cache, and some for the others
  const size_t bytes = HugePagesFor(slot * pages);
  void* start = AllocateHugePages(bytes);
  if (start == nullptr) return false;
  if (sqlite3_config(SQLITE_CONFIG_PAGECACHE, start, static_cast<int>(slot), static_cast<int>(bytes / slot)) == SQLITE_OK) return true;
  FreeHugePages(start, bytes);
  return false;
}

}  // namespace

static_assert(static_cast<int>(Stmt::Type::kInteger) == SQLITE_INTEGER && static_cast<int>(Stmt::Type::kFloat) == SQLITE_FLOAT &&
              static_cast<int>(Stmt::Type::kText) == SQLITE_TEXT && static_cast<int>(Stmt::Type::kBlob) == SQLITE_BLOB &&
              static_cast<int>(Stmt::Type::kNull) == SQLITE_NULL);

Result<Db> Db::Open(const std::string& path, OpenMode mode) {
  // SQLite's memory statistics take a global mutex around every allocation it makes, and
  // vigil never reads them. Only possible before SQLite initializes (at the first open).
  static const bool kNoMemStatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  static const bool kPageCacheRegion = GivePageCacheARegion();
  (void)kNoMemStatus, (void)kPageCacheRegion;
  // Every connection is used by one thread at a time (each is opened by the code that uses
  // it), so none needs SQLite's per-call mutex (two locks per step and column read).
  int flags = (mode == OpenMode::kReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
  if (mode == OpenMode::kProcessor) flags |= SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  // The processor's batches write their WAL in large writes (store/wal_vfs.h).
  const char* vfs = mode == OpenMode::kProcessor ? WalGatheringVfs() : mode == OpenMode::kCheckpoint ? CheckpointVfs() : nullptr;
  if (sqlite3_open_v2(path.c_str(), &raw, flags, vfs) != SQLITE_OK) {
    std::string m = raw ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close(raw);
    return Status::NotFound("cannot open " + path + ": " + m);
  }
  Db db(raw);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  if (mode == OpenMode::kModel) VIGIL_RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode=WAL"));
  if (mode == OpenMode::kProcessor) VIGIL_RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  if (mode == OpenMode::kModel || mode == OpenMode::kProcessor) {
    db.carried_wal_bytes_ = kCarriedWalBytes;
    // The processor never copies the WAL on a commit (it checkpoints in the background,
    // FeatureStore); the model stage past kModelCheckpointWalBytes.
    db.WatchWal(mode == OpenMode::kModel ? kModelCheckpointWalBytes / kWalFrameBytes : 0);
  }
  return db;
}

void Db::WatchWal(int64_t checkpoint_frames) {
  wal_ = std::make_unique<WalWatch>();
  wal_->checkpoint_frames = checkpoint_frames;
  sqlite3_wal_hook(
      db_,
      [](void* arg, sqlite3* db, const char* name, int frames) {
        auto* w = static_cast<WalWatch*>(arg);
        w->frames = frames;
        // What SQLite's own autocheckpoint hook does; its error is not the commit's.
        if (w->checkpoint_frames > 0 && frames >= w->checkpoint_frames) (void)sqlite3_wal_checkpoint(db, name);
        return SQLITE_OK;
      },
      wal_.get());
}

Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    Close();
    db_ = o.db_;
    carried_wal_bytes_ = o.carried_wal_bytes_;
    wal_ = std::move(o.wal_);
    o.db_ = nullptr;
  }
  return *this;
}

Db::~Db() { Close(); }

void Db::Close() {
  if (!db_) return;
  if (carried_wal_bytes_ >= 0) {
    // A large WAL is copied and deleted, as SQLite's close does. Without a commit of this
    // connection to count, the file's size stands for it (an upper bound).
    std::error_code ec;
    const uintmax_t wal = WalBytes() >= 0 ? static_cast<uintmax_t>(WalBytes())
                                          : std::filesystem::file_size(std::string(sqlite3_db_filename(db_, "main")) + "-wal", ec);
    if (!ec && wal <= static_cast<uintmax_t>(carried_wal_bytes_)) {
      (void)sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    }
  }
  sqlite3_close(db_);
  db_ = nullptr;
}

Status Db::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::IoError("sqlite: " + m + " in: " + sql.substr(0, 80));
  }
  return Status::Ok();
}

Status Db::FlushWal() {
  sqlite3_file* wal = nullptr;
  if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK || !wal || !wal->pMethods) {
    return Status::Ok();  // no WAL open: nothing gathered
  }
  const int rc = wal->pMethods->xFileControl(wal, kFlushGathered, nullptr);
  if (rc == SQLITE_OK || rc == SQLITE_NOTFOUND) return Status::Ok();  // NOTFOUND: not a gathered file
  return Status::IoError("sqlite: writing the WAL: " + std::string(sqlite3_errstr(rc)));
}

Result<Stmt> Db::Prepare(const std::string& sql, bool persistent) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0, &st, nullptr) != SQLITE_OK) {
    sqlite3_finalize(st);
    return Status::IoError(std::string("sqlite prepare: ") + sqlite3_errmsg(db_) + " in: " + sql);
  }
  return Stmt(db_, st);
}

int64_t Db::Changes() const { return sqlite3_changes(db_); }
int64_t Db::LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
std::string Db::ErrorMessage() const { return sqlite3_errmsg(db_); }

Stmt::~Stmt() { sqlite3_finalize(s_); }

Stmt& Stmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, const std::string& v) {
  sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::Bind(int i, std::optional<double> v) {
  if (v) sqlite3_bind_double(s_, i, *v);
  else sqlite3_bind_null(s_, i);
  return *this;
}
Stmt& Stmt::BindBlob(int i, std::string_view bytes) {
  sqlite3_bind_blob(s_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  Reset();
  if (rc == SQLITE_DONE) return false;
  return Status::IoError(std::string("sqlite: ") + sqlite3_errmsg(db_));
}

Status Stmt::Run() {
  Result<bool> r = Step();
  if (!r) return r.error();
  if (*r) Reset();
  return Status::Ok();
}

void Stmt::Reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

int Stmt::Columns() const { return sqlite3_column_count(s_); }
bool Stmt::IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
int64_t Stmt::Int(int col) const { return sqlite3_column_int64(s_, col); }
double Stmt::Double(int col) const { return sqlite3_column_double(s_, col); }
std::optional<double> Stmt::OptDouble(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Double(col);
}
float Stmt::FloatOrNaN(int col) const {
  return IsNull(col) ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(Double(col));
}
std::string Stmt::Text(int col) const {
  const unsigned char* t = sqlite3_column_text(s_, col);
  return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
}
std::string_view Stmt::Blob(int col) const {
  const void* p = sqlite3_column_blob(s_, col);
  return p ? std::string_view(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s_, col)))
           : std::string_view();
}
std::string Stmt::ColumnName(int col) const { return sqlite3_column_name(s_, col); }
Stmt::Type Stmt::TypeOf(int col) const { return static_cast<Type>(sqlite3_column_type(s_, col)); }

Result<Transaction> Transaction::Begin(Db& db) {
  VIGIL_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  Db* db = db_;
  db_ = nullptr;
  Status s = db->Exec("COMMIT");
  if (!s.ok()) (void)db->Exec("ROLLBACK");
  return s;
}

std::string Quoted(const std::string& v) {
  char* q = sqlite3_mprintf("%Q", v.c_str());
  std::string out(q);
  sqlite3_free(q);
  return out;
}

Status SyncWal(const std::string& db_path) {
  const std::string wal = db_path + "-wal";
  const int fd = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);  // no lock on a WAL file to lose at its close
  if (fd < 0) return errno == ENOENT ? Status::Ok() : Status::IoError("open " + wal + ": " + std::strerror(errno));
  const int rc = ::fdatasync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IoError("fdatasync " + wal + ": " + std::strerror(err));
  return Status::Ok();
}

}  // namespace vigil::store
