// The processor's connection gathers its WAL appends into large writes (store/wal_vfs.h):
// other connections must still see each commit whole, the connection its own spilled
// frames, and a killed writer must leave its last commit.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "common/data_paths.h"
#include "store/db.h"
#include "store/wal_vfs.h"
#include "test_util.h"

namespace vigil::store {
namespace {

using vigil::testing::TempDir;

// count(*), sum(x), sum(length(pad)) and the integrity check, from a connection of its own.
std::string Census(Db& db) {
  std::string out;
  Result<Stmt> st = db.Prepare("SELECT count(*), sum(x), sum(length(pad)) FROM t");
  EXPECT_TRUE(st) << st.error().message();
  if (!st) return "";
  EXPECT_OK(st->ForEach([&](const Stmt& row) {
    out = std::to_string(row.Int(0)) + " " + std::to_string(row.Int(1)) + " " + std::to_string(row.Int(2));
  }));
  Result<Stmt> check = db.Prepare("PRAGMA integrity_check");
  EXPECT_TRUE(check);
  if (check) EXPECT_OK(check->ForEach([&](const Stmt& row) { out += " " + row.Text(0); }));
  return out;
}

// Rows [from, to) with 700-byte blobs: a few hundred frames, more than one gathered write.
std::string Insert(int from, int to) {
  return "WITH RECURSIVE s(v) AS (SELECT " + std::to_string(from) + " UNION ALL SELECT v + 1 FROM s WHERE v < " +
         std::to_string(to - 1) + ") INSERT INTO t(x, pad) SELECT v, randomblob(700) FROM s";
}

std::string Expected(int64_t n) {  // rows 0..n-1
  return std::to_string(n) + " " + std::to_string(n * (n - 1) / 2) + " " + std::to_string(n * 700) + " ok";
}

class WalVfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = data_paths::Database(tmp_.path());
    Result<Db> db = Db::Open(path_, OpenMode::kProcessor);
    ASSERT_TRUE(db) << db.error().message();
    ASSERT_OK(db->Exec("CREATE TABLE t(x INTEGER PRIMARY KEY, pad BLOB)"));
  }
  TempDir tmp_;
  std::string path_;
};

TEST_F(WalVfsTest, OtherConnectionsSeeEachCommitWhole) {
  Result<Db> writer = Db::Open(path_, OpenMode::kProcessor);
  ASSERT_TRUE(writer);
  sqlite3_vfs* vfs = nullptr;
  ASSERT_EQ(sqlite3_file_control(writer->get(), "main", SQLITE_FCNTL_VFS_POINTER, &vfs), SQLITE_OK);
  ASSERT_NE(vfs, nullptr);
  EXPECT_STREQ(vfs->zName, WalGatheringVfs());  // the tests below go through it
  Result<Db> reader = Db::Open(path_, OpenMode::kReadOnly);
  ASSERT_TRUE(reader);
  for (int round = 1; round <= 3; ++round) {
    ASSERT_OK(writer->Exec("BEGIN IMMEDIATE"));
    ASSERT_OK(writer->Exec(Insert((round - 1) * 3000, round * 3000)));
    ASSERT_OK(writer->Exec("COMMIT"));
    EXPECT_EQ(Census(*reader), Expected(round * 3000)) << "round " << round;
  }
}

// A checkpoint through CheckpointVfs gathers its writes to the database file: while the
// checkpointer stays open, a reader that finds the WAL emptied (TRUNCATE) reads the file
// alone and must find every row there, and so must a reader after a checkpoint that only
// copies (PASSIVE) and a writer's next commits.
TEST_F(WalVfsTest, ACheckpointsGatheredWritesAreInTheFileBeforeItCountsThemCopied) {
  Result<Db> writer = Db::Open(path_, OpenMode::kProcessor);
  ASSERT_TRUE(writer);
  Result<Db> checkpointer = Db::Open(path_, OpenMode::kCheckpoint);
  ASSERT_TRUE(checkpointer);
  sqlite3_vfs* vfs = nullptr;
  ASSERT_EQ(sqlite3_file_control(checkpointer->get(), "main", SQLITE_FCNTL_VFS_POINTER, &vfs), SQLITE_OK);
  ASSERT_NE(vfs, nullptr);
  EXPECT_STREQ(vfs->zName, CheckpointVfs());
  for (int round = 1; round <= 3; ++round) {
    ASSERT_OK(writer->Exec(Insert((round - 1) * 3000, round * 3000)));
    ASSERT_OK(checkpointer->Exec(round == 2 ? "PRAGMA wal_checkpoint(PASSIVE)" : "PRAGMA wal_checkpoint(TRUNCATE)"));
    Result<Db> reader = Db::Open(path_, OpenMode::kReadOnly);
    ASSERT_TRUE(reader);
    EXPECT_EQ(Census(*reader), Expected(round * 3000)) << "round " << round;
  }
  EXPECT_EQ(std::filesystem::file_size(path_ + "-wal"), 0u);  // the last one emptied it
}

// With a tiny page cache the transaction spills its pages into the WAL as it goes, and
// reads them back from there before its commit; a rolled-back spill is not seen.
TEST_F(WalVfsTest, ATransactionReadsItsOwnSpilledFramesBack) {
  Result<Db> writer = Db::Open(path_, OpenMode::kProcessor);
  ASSERT_TRUE(writer);
  ASSERT_OK(writer->Exec("PRAGMA cache_size=10"));
  ASSERT_OK(writer->Exec("BEGIN IMMEDIATE"));
  ASSERT_OK(writer->Exec(Insert(0, 4000)));
  EXPECT_EQ(Census(*writer), Expected(4000));
  ASSERT_OK(writer->Exec("ROLLBACK"));
  ASSERT_OK(writer->Exec("BEGIN IMMEDIATE"));
  ASSERT_OK(writer->Exec(Insert(0, 2000)));
  EXPECT_EQ(Census(*writer), Expected(2000));
  ASSERT_OK(writer->Exec("COMMIT"));
  Result<Db> reader = Db::Open(path_, OpenMode::kReadOnly);
  ASSERT_TRUE(reader);
  EXPECT_EQ(Census(*reader), Expected(2000));
}

// A writer killed in the middle of a spilling transaction (its gathered frames lost with
// it) leaves exactly its last commit.
TEST_F(WalVfsTest, AKilledWriterLeavesItsLastCommit) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Result<Db> w = Db::Open(path_, OpenMode::kProcessor);
    if (!w || !w->Exec("BEGIN IMMEDIATE").ok() || !w->Exec(Insert(0, 3000)).ok() || !w->Exec("COMMIT").ok()) _exit(2);
    if (!w->Exec("PRAGMA cache_size=10").ok() || !w->Exec("BEGIN IMMEDIATE").ok() || !w->Exec(Insert(3000, 9000)).ok()) _exit(3);
    raise(SIGKILL);
    _exit(4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child exit " << WEXITSTATUS(status);
  Result<Db> db = Db::Open(path_, OpenMode::kReadWrite);
  ASSERT_TRUE(db);
  EXPECT_EQ(Census(*db), Expected(3000));
}

}  // namespace
}  // namespace vigil::store
