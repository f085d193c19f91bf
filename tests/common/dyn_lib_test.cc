// Libraries opened on first use (common/dyn_lib.h): a missing one or a missing symbol is
// an error that says what to install, never a crash at start-up.
#include "common/dyn_lib.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(DynLibTest, AMissingLibrarySaysWhichPackageToInstall) {
  const DynLib lib("libvigil-no-such-library.so.7", "vigil-no-such-package");
  EXPECT_EQ(lib.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(lib.status().message().find("cannot load libvigil-no-such-library.so.7"), std::string::npos);
  EXPECT_NE(lib.status().message().find("apt-get install vigil-no-such-package"), std::string::npos);
  int (*fn)(int) = nullptr;
  EXPECT_EQ(lib.Resolve("abs", &fn).code(), StatusCode::kUnavailable);
  EXPECT_EQ(fn, nullptr);
}

TEST(DynLibTest, ResolvesTheSymbolsOfALoadedLibrary) {
  const DynLib lib("libz.so.1", "zlib1g");  // a dependency of libcurl and of cpp-httplib
  ASSERT_TRUE(lib.status().ok()) << lib.status().message();
  const char* (*version)() = nullptr;
  ASSERT_TRUE(lib.Resolve("zlibVersion", &version).ok());
  EXPECT_EQ(version()[0], '1');
  int (*absent)() = nullptr;
  const Status st = lib.Resolve("vigil_no_such_symbol", &absent);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("libz.so.1 has no vigil_no_such_symbol"), std::string::npos);
}

}  // namespace
}  // namespace vigil
