// Every subcommand: --help with an example, and a bad flag gives one line and exit code 2.
#include <gtest/gtest.h>

#include "integration/harness.h"
#include "test_util.h"

namespace vigil::testing {
namespace {

TEST(CliIntegration, HelpAndBadFlagsForEverySubcommand) {
  TempDir tmp;
  for (const char* cmd : {"run", "simulate", "process", "reprocess", "replay", "import", "export", "status", "check-config", "upload"}) {
    std::string help = tmp.path() + "/" + cmd + ".help";
    Process h({VigilBinary(), cmd, "--help"}, help);
    EXPECT_EQ(h.Wait(10000), 0) << cmd;
    std::string text = ReadFileOrDie(help);
    EXPECT_NE(text.find("Example"), std::string::npos) << cmd << ":\n" << text;
    EXPECT_NE(text.find("Usage:"), std::string::npos) << cmd;

    std::string bad = tmp.path() + "/" + cmd + ".bad";
    std::vector<std::string> argv = {VigilBinary(), cmd, "--no-such-flag"};
    if (std::string(cmd) == "import" || std::string(cmd) == "check-config") argv.push_back("/dev/null");
    Process b(argv, bad);
    EXPECT_EQ(b.Wait(10000), 2) << cmd;
    std::string err = ReadFileOrDie(bad);
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << cmd << ": " << err;
    EXPECT_NE(err.find("--no-such-flag"), std::string::npos) << err;
  }
  Process none({VigilBinary()}, tmp.path() + "/none");
  EXPECT_EQ(none.Wait(10000), 2);
}

}  // namespace
}  // namespace vigil::testing
