// Shared test helpers: temp dirs, file reading, Status matchers.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vigil/status.h"

#define EXPECT_OK(expr)                                       \
  do {                                                        \
    const ::vigil::Status _s = (expr);                        \
    EXPECT_TRUE(_s.ok()) << _s.message();                     \
  } while (0)
#define ASSERT_OK(expr)                                       \
  do {                                                        \
    const ::vigil::Status _s = (expr);                        \
    ASSERT_TRUE(_s.ok()) << _s.message();                     \
  } while (0)

namespace vigil::testing {

// A fresh directory under $TMPDIR, removed with everything in it at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadFileOrDie(const std::string& path);
void WriteFileOrDie(const std::string& path, const std::string& data);
// Regular files under dir (recursive), paths relative to dir, sorted.
std::vector<std::string> ListFiles(const std::string& dir);
// All lines of all files under dir whose relative path starts with prefix, and the lines
// waiting in a writer's log (.wal/) for a segment whose path starts with prefix.
// (Files that vanish while being listed, as a daemon publishes them, are skipped.)
// finished_only: leave out a last line without its newline (a live writer's line in flight).
std::vector<std::string> ReadAllLines(const std::string& dir, const std::string& prefix = "",
                                      bool finished_only = false);

}  // namespace vigil::testing
