// Every subcommand: --help with an example, and a bad flag gives one line and exit code 2.
#include <gtest/gtest.h>

#include "common/data_paths.h"
#include "integration/harness.h"
#include "store/feature_store.h"
#include "store/model_registry.h"
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

// A `vigil train` that died left its models row "training": `vigil models` marks it
// failed and says what that means.
TEST(CliIntegration, ModelsMarksATrainingThatDiedFailedAndSaysSo) {
  TempDir tmp;
  Config config;
  config.data_dir = tmp.path();
  const std::string db_path = data_paths::Database(tmp.path());
  ASSERT_TRUE(store::FeatureStore::Open(db_path, config));
  {
    Result<store::ModelDb> db = store::ModelDb::Open(db_path);
    ASSERT_TRUE(db);
    store::ModelRecord m;
    m.created_ms = 1760486400000;
    m.status = "training";
    ASSERT_TRUE(store::InsertModel(*db, m));
  }
  const std::string out = tmp.path() + "/models.out";
  Process p({VigilBinary(), "models", "--data-dir", tmp.path()}, out);
  ASSERT_EQ(p.Wait(10000), 0) << ReadFileOrDie(out);
  const std::string text = ReadFileOrDie(out);
  EXPECT_NE(text.find("  1    failed "), std::string::npos) << text;
  EXPECT_NE(text.find("failed: a training that did not finish"), std::string::npos) << text;
  EXPECT_EQ(text.find("training  created"), std::string::npos) << text;  // the status column
  Result<store::ModelDb> db = store::ModelDb::Open(db_path);
  ASSERT_TRUE(db);
  Result<std::vector<store::ModelRecord>> all = store::ListModels(*db);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].status, "failed");
}

}  // namespace
}  // namespace vigil::testing
