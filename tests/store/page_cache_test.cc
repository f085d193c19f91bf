// SQLite's page caches take their pages from a region of their own (store/db.cc), which
// the kernel may back with huge pages. It can only be set up before SQLite's first use, so
// it is checked in a fresh process (a death test re-executes this binary), where no other
// test has used SQLite yet. Whether the kernel gives huge pages is the machine's business.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>

#include "store/db.h"
#include "test_util.h"

namespace vigil::store {
namespace {

// Exits 0 when a first connection's pages came from the region, 1 when from malloc.
[[noreturn]] void OpenAndExit() {
  vigil::testing::TempDir dir;
  int code = 2;
  {
    Result<Db> db = Db::Open(dir.path() + "/t.db", OpenMode::kProcessor);
    if (db && db->Exec("CREATE TABLE t(x); INSERT INTO t VALUES(1);").ok()) {
      sqlite3_int64 used = 0, high = 0;
      sqlite3_status64(SQLITE_STATUS_PAGECACHE_USED, &used, &high, 0);
      code = high > 0 ? 0 : 1;
    }
  }
  std::filesystem::remove_all(dir.path());
  std::_Exit(code);
}

TEST(PageCacheTest, PagesComeFromTheRegion) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(OpenAndExit(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace vigil::store
