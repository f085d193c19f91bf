// The store's configuration fingerprint (store/schema.cc) sees features expanded from
// [[feature_templates]] exactly as it sees [[features]]: the same columns give the same
// fingerprint, another expansion a different one (a database is then refused until
// `vigil reprocess --all`).
#include <gtest/gtest.h>

#include "store/schema.h"
#include "vigil/config.h"

namespace vigil::store {
namespace {

const char kSensor[] = "[[sensors]]\nname = \"s02\"\nfield = \"s02\"\nmin = -1e9\nmax = 1e9\n";

std::string FingerprintOf(const std::string& features) {
  Result<Config> c = ParseConfigText(std::string(kSensor) + features, "t.toml");
  EXPECT_TRUE(c.has_value()) << c.error().message();
  return c ? Fingerprint(*c) : "";
}

TEST(FingerprintTest, TemplateAndExplicitFeaturesFingerprintAlike) {
  const std::string templ = FingerprintOf(
      "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"mean\", \"max\"]\ndurations = [\"5h\"]\n");
  const std::string expl = FingerprintOf(
      "[[features]]\nname = \"s02_mean_5h\"\nsensor = \"s02\"\naggregate = \"mean\"\nduration = \"5h\"\n"
      "[[features]]\nname = \"s02_max_5h\"\nsensor = \"s02\"\naggregate = \"max\"\nduration = \"5h\"\n");
  EXPECT_EQ(templ, expl);
  EXPECT_NE(templ.find("feature=s02_max_5h:s02:max:18000000"), std::string::npos) << templ;
}

TEST(FingerprintTest, ChangingATemplateChangesTheFingerprint) {
  const std::string base = FingerprintOf(
      "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"mean\"]\ndurations = [\"5h\"]\n");
  for (const char* other : {
           "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"mean\", \"std\"]\ndurations = [\"5h\"]\n",
           "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"mean\"]\ndurations = [\"6h\"]\n",
           "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"min\"]\ndurations = [\"5h\"]\n",
       }) {
    EXPECT_NE(FingerprintOf(other), base) << other;
  }
}

}  // namespace
}  // namespace vigil::store
