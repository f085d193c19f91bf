// Folder src/store/: owns vigil.db, every table of it and every SQL statement; the only
// code that includes sqlite3.h. Calls src/common/ only (never model/: its value types are
// in store/records.h). Files by purpose: db (open, Stmt, Transaction), schema, feature_store
// (the processor's writes), views (status, API), export, rebuild, model_registry,
// predictions (scoring, alerts), training_data, wal_vfs (the processor's WAL writes).
//
// Db, Stmt, Transaction: the one place that opens vigil.db and runs SQL on it. Every other
// store file goes through these; nothing outside src/store/ sees sqlite3.
//
// One busy timeout for every connection (kBusyTimeoutMs): the processor, the model stage,
// `vigil train`/`models` and the API all share one file, and a writer never fails where a
// slower one is merely in the way.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "vigil/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace vigil::store {

constexpr int kBusyTimeoutMs = 30'000;
// The processor's page cache (FeatureStore), which also sizes the region that the page
// caches take their pages from (db.cc).
constexpr int kProcessorCacheKiB = 8 * 1024;

// The WAL that the processor's and the model stage's connections leave at their close,
// for the processor's next run to copy beside its parse (FeatureStore): whichever closes
// last would otherwise copy it while its command waits. A larger WAL is copied at the close
// (the processor's in gathered writes, FeatureStore) and deleted. Not larger: the next open
// reads every frame of a WAL it finds to rebuild SQLite's index of it, on its critical path
// (0.6 ms a MB), and its checkpoint's writes meet that run's own syncs. 16 MiB carries a
// routine batch's WAL (100 machines, 5 minutes: 12.8 MB) and copies a from-scratch batch's
// (41 MB: the next +1% batch's command, medians 0.28 -> 0.24 s).
// "Larger" counts the frames of the connection's last commit, not the file: SQLite writes
// the WAL over from its start and never shrinks the file, so after one large batch the
// file's size says nothing of what a checkpoint would copy.
constexpr int64_t kCarriedWalBytes = int64_t{16} << 20;
// The model stage's commits copy the WAL only past this size: SQLite's default (1000
// pages) would have the scoring pass's commit copy the processor's batch while it waits.
constexpr int64_t kModelCheckpointWalBytes = int64_t{64} << 20;
constexpr int64_t kWalFrameBytes = 4096 + 24;  // a page (SQLite's default size, vigil.db's) and its header

enum class OpenMode {
  kReadOnly,   // views, export, training data
  kReadWrite,  // an existing file, no pragmas (rebuild's copy and swap)
  kCheckpoint,  // an existing file, only to checkpoint it: writes gathered (store/wal_vfs.h)
  kModel,      // an existing file, WAL; synchronous stays FULL: alerts must survive power loss
  // Created if missing, WAL, synchronous=NORMAL: a commit is not synced. It must be on
  // disk before the archive step moves its segments out of raw/ (a power loss could roll
  // the batch back after the moves, and nothing would process those segments again): the
  // processor calls SyncWal first, on the archive step's thread, beside the model stage,
  // rather than waiting for the disk in the commit (+1% at 10M: the commit 16-27 -> 5-15
  // ms; BENCHMARKS.md). A process that dies loses no commit: the page cache keeps it.
  kProcessor,
};

class Stmt;

class Db {
 public:
  // Errors: kNotFound "cannot open <path>: <sqlite message>" (callers word it), kIoError
  // for a failed pragma.
  static Result<Db> Open(const std::string& path, OpenMode mode);
  Db(Db&& o) noexcept : db_(o.db_), carried_wal_bytes_(o.carried_wal_bytes_), wal_(std::move(o.wal_)) { o.db_ = nullptr; }
  Db& operator=(Db&& o) noexcept;
  ~Db();  // leaves a WAL up to carried_wal_bytes for the next checkpoint (kCarriedWalBytes)
  void set_carried_wal_bytes(int64_t bytes) { carried_wal_bytes_ = bytes; }  // tests; -1: never
  int64_t carried_wal_bytes() const { return carried_wal_bytes_; }
  // The WAL's length after this connection's last commit (kProcessor, kModel); -1 before one.
  int64_t WalBytes() const { return wal_ && wal_->frames >= 0 ? wal_->frames * kWalFrameBytes : -1; }

  // Runs one or more statements; errors name the SQL (its first 80 characters).
  Status Exec(const std::string& sql);
  // Writes what the WAL gathering VFS still holds of this connection's WAL (store/wal_vfs.h):
  // after a commit that a sync from another descriptor (SyncWal) is to make durable.
  Status FlushWal();
  // persistent: kept for the connection's life (SQLITE_PREPARE_PERSISTENT).
  Result<Stmt> Prepare(const std::string& sql, bool persistent = false);
  int64_t Changes() const;
  int64_t LastInsertId() const;
  std::string ErrorMessage() const;
  // The handle, for tests that look at the file with SQL of their own.
  sqlite3* get() const { return db_; }

 protected:
  explicit Db(sqlite3* db) : db_(db) {}

 private:
  // What the connection's commits leave in the WAL (sqlite3_wal_hook): frames after its
  // last commit (-1: none yet), and the length at which a commit copies the WAL (0: never;
  // the hook replaces SQLite's autocheckpoint). On the heap: the hook keeps its address.
  struct WalWatch {
    int64_t frames = -1;
    int64_t checkpoint_frames = 0;
  };
  void WatchWal(int64_t checkpoint_frames);
  void Close();

  sqlite3* db_;
  int64_t carried_wal_bytes_ = -1;  // kProcessor and kModel: kCarriedWalBytes
  std::unique_ptr<WalWatch> wal_;
};

// A prepared statement; bindings are 1-based, columns 0-based. Step() resets after the
// last row, so a statement is reused by binding it again.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt();

  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, const std::string& v);
  Stmt& Bind(int i, std::optional<double> v);  // nullopt binds NULL
  Stmt& BindNull(int i);
  Stmt& BindBlob(int i, std::string_view bytes);  // copied
  // SQLITE_ROW -> true; SQLITE_DONE -> false (and resets); else an error (and resets).
  Result<bool> Step();
  // Steps once, ignoring a row, and resets.
  Status Run();
  // Calls row(*this) for every row; the first error ends it.
  template <typename F>
  Status ForEach(F&& row) {
    for (;;) {
      Result<bool> r = Step();
      if (!r) return r.error();
      if (!*r) return Status::Ok();
      row(static_cast<const Stmt&>(*this));
    }
  }
  void Reset();

  int Columns() const;
  bool IsNull(int col) const;
  int64_t Int(int col) const;
  double Double(int col) const;
  std::optional<double> OptDouble(int col) const;  // NULL -> nullopt
  float FloatOrNaN(int col) const;                 // NULL -> NaN (the model's "missing")
  std::string Text(int col) const;                 // NULL -> ""
  std::string_view Blob(int col) const;            // valid until the next Step
  std::string ColumnName(int col) const;
  // A column's storage class (for generic dumps).
  enum class Type { kInteger = 1, kFloat = 2, kText = 3, kBlob = 4, kNull = 5 };  // SQLite's codes
  Type TypeOf(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* s_;
};

// BEGIN IMMEDIATE now; ROLLBACK on destruction unless Commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> Begin(Db& db);
  Transaction(Transaction&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;
};

// An SQL string literal (quotes doubled).
std::string Quoted(const std::string& v);

// fdatasync of <db_path>-wal: every commit written to it is on disk. No WAL file is fine:
// the last close checkpointed it, and a checkpoint syncs the database file.
Status SyncWal(const std::string& db_path);

}  // namespace vigil::store
