#include "vigil/config.h"

#include <gtest/gtest.h>

#include "common/config_options.h"
#include "test_util.h"

namespace vigil {
namespace {

using config_internal::Options;
using config_internal::TomlValue;

const std::string kExample = std::string(VIGIL_SOURCE_DIR) + "/config/vigil.toml";

TEST(ConfigTest, ExampleFileDocumentsEveryKeyWithItsDefault) {
  Result<Config> loaded = LoadConfigFile(kExample);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  Config defaults;
  std::string text = vigil::testing::ReadFileOrDie(kExample);
  for (const auto& o : Options()) {
    EXPECT_EQ(TomlValue(o, *loaded), TomlValue(o, defaults)) << o.key;
    std::string key = o.key;
    std::string leaf = key.substr(key.find('.') == std::string::npos ? 0 : key.find('.') + 1);
    EXPECT_NE(text.find("\n" + leaf + " = "), std::string::npos) << o.key << " is not in " << kExample;
  }
  ASSERT_EQ(loaded->sensors.size(), defaults.sensors.size());
  for (size_t i = 0; i < defaults.sensors.size(); ++i) {
    EXPECT_EQ(loaded->sensors[i].name, defaults.sensors[i].name);
    EXPECT_EQ(loaded->sensors[i].field, defaults.sensors[i].field);
    EXPECT_EQ(loaded->sensors[i].min, defaults.sensors[i].min);
    EXPECT_EQ(loaded->sensors[i].max, defaults.sensors[i].max);
  }
  ASSERT_EQ(loaded->features.size(), defaults.features.size());
  for (size_t i = 0; i < defaults.features.size(); ++i) {
    EXPECT_EQ(loaded->features[i].name, defaults.features[i].name);
    EXPECT_EQ(loaded->features[i].duration_ms, defaults.features[i].duration_ms);
    EXPECT_EQ(loaded->features[i].aggregate, defaults.features[i].aggregate);
  }
  EXPECT_TRUE(CheckConfig(*loaded).ok());
}

TEST(ConfigTest, ErrorsNameLineAndKeyInFileOrder) {
  Result<Config> c = ParseConfigText(
      "data_dir = 5\n[mqtt]\nport = 70000\nhots = \"x\"\n[lake]\nfsync = \"sometimes\"\n"
      "segment_max_age = \"5 minutes\"\n",
      "t.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message(),
            "t.toml:1: data_dir: expected a string\n"
            "t.toml:3: mqtt.port: 70000 is out of range [1, 65535]\n"
            "t.toml:4: mqtt.hots: unknown key\n"
            "t.toml:6: lake.fsync: 'sometimes' is not one of: never, interval, always\n"
            "t.toml:7: lake.segment_max_age: '5 minutes': unknown unit ' minutes' (ms, s, m, h, d)");
}

TEST(ConfigTest, SyntaxErrorHasLineAndColumn) {
  Result<Config> c = ParseConfigText("[mqtt\n", "t.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message().rfind("t.toml:1:", 0), 0u) << c.error().message();
}

// Fuzzing (fuzz_config, a build with assertions): a NUL in a table header made toml++ 3.3
// assert (abort) instead of reporting an error. Input as the fuzzer found it.
TEST(ConfigTest, NulByteIsAnErrorWithItsPosition) {
  const std::string text("[mqtt]\npassword = \"x\"\nunknown = 1\n[\0\0\0\0\0\0\0\1lake]\nfsync = 3\n", 59);
  ASSERT_EQ(text.size(), 59u);
  Result<Config> c = ParseConfigText(text, "fuzz.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message(), "fuzz.toml:4:2: not valid TOML: a NUL byte (is this a text file?)");
}

// Fuzzing (fuzz_config): toml++ quoted the line end it saw, so check-config's problem
// broke across two lines ("... saw 'n" / "'").
TEST(ConfigTest, SyntaxErrorStaysOnOneLine) {
  Result<Config> c = ParseConfigText("x = n\n", "fuzz.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message().find('\n'), std::string::npos) << c.error().message();
  EXPECT_EQ(c.error().message().rfind("fuzz.toml:1:", 0), 0u) << c.error().message();
  c = ParseConfigText("[mqtt]\n\"a\\nb\" = 1\n", "fuzz.toml");  // a quoted key with a line end
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message(), "fuzz.toml:2: mqtt.a\\nb: unknown key") << c.error().message();
}

TEST(ConfigTest, FileOverridesDefaultsAndKeepsTheRest) {
  Result<Config> c = ParseConfigText(
      "[mqtt]\nhost = \"broker\"\nkeepalive = \"1m\"\n[lake]\nfsync = \"always\"\n"
      "segment_max_bytes = \"1MiB\"\n[processing]\nwindow = \"10s\"\n",
      "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->mqtt.host, "broker");
  EXPECT_EQ(c->mqtt.keepalive_s, 60);
  EXPECT_EQ(c->mqtt.port, 1883);
  EXPECT_EQ(c->lake.fsync, FsyncPolicy::kAlways);
  EXPECT_EQ(c->lake.segment_max_bytes, 1 << 20);
  EXPECT_EQ(c->processing.window_ms, 10'000);
  EXPECT_EQ(c->sensors.size(), 2u);
}

// Found by fuzz_config: the number fits in int64 but the number times its unit does not.
TEST(ConfigTest, SizeThatOverflowsWithItsUnitIsAnError) {
  Result<Config> c = ParseConfigText("[lake]\nsegment_max_bytes = \"8198552921648689658KiB\"\n", "t.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message(), "t.toml:2: lake.segment_max_bytes: '8198552921648689658KiB' is too large");
  c = ParseConfigText("[lake]\nsegment_max_bytes = \"8GiB\"\n", "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->lake.segment_max_bytes, int64_t{8} << 30);
}

TEST(ConfigTest, SensorsAndFeaturesReplaceDefaults) {
  Result<Config> c = ParseConfigText(
      "[[sensors]]\nname = \"pressure\"\nfield = \"pressure_bar\"\nmin = 0\nmax = 16.5\n"
      "[[features]]\nname = \"p_last_1h\"\nsensor = \"pressure\"\naggregate = \"last\"\nduration = \"1h\"\n",
      "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  ASSERT_EQ(c->sensors.size(), 1u);
  EXPECT_EQ(c->sensors[0].field, "pressure_bar");
  EXPECT_EQ(c->sensors[0].max, 16.5);
  ASSERT_EQ(c->features.size(), 1u);
  EXPECT_EQ(c->features[0].aggregate, Aggregate::kLast);
  EXPECT_EQ(c->features[0].duration_ms, 3'600'000);
  EXPECT_TRUE(CheckConfig(*c).ok());
}

TEST(ConfigTest, CheckFindsCrossReferenceProblems) {
  Config c;
  c.features.push_back({"bad name", "nope", Aggregate::kMean, 0});
  c.sensors.push_back({"vibration", "vibration_rms", 5, 1});
  c.mqtt.topic_prefix = "a/+/b";
  Status s = CheckConfig(c);
  ASSERT_FALSE(s.ok());
  for (const char* expected : {"unknown sensor 'nope'", "name must be an identifier", "duration must be positive",
                               "duplicate sensor name", "min must be <= max", "mqtt.topic_prefix"}) {
    EXPECT_NE(s.message().find(expected), std::string::npos) << expected << " not in:\n" << s.message();
  }
}

TEST(ConfigTest, Durations) {
  EXPECT_EQ(*ParseDuration("250ms"), 250);
  EXPECT_EQ(*ParseDuration("30s"), 30'000);
  EXPECT_EQ(*ParseDuration("5m"), 300'000);
  EXPECT_EQ(*ParseDuration("24h"), 86'400'000);
  EXPECT_EQ(*ParseDuration("7d"), 604'800'000);
  for (const char* bad : {"", "5", "m", "-5m", "5 m", "5min", "1.5h", "99999999999999999d"}) {
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
  }
  EXPECT_EQ(FormatDuration(604'800'000), "7d");
  EXPECT_EQ(FormatDuration(90'000), "90s");
  EXPECT_EQ(FormatDuration(1500), "1500ms");
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

TEST(ConfigTest, APasswordInTheConfigFileIsRefusedWithWhereToPutIt) {
  Result<Config> c = ParseConfigText("[mqtt]\nusername = \"vigil\"\npassword = \"secret\"\n", "t.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("t.toml:3: mqtt.password: the password is not read from the config file"),
            std::string::npos) << c.error().message();
  EXPECT_NE(c.error().message().find("mqtt.password_file"), std::string::npos);
  EXPECT_EQ(c.error().message().find("secret"), std::string::npos) << "never echo a password";
}

TEST(ConfigTest, APasswordWithoutAUserNameIsRefused) {
  Config c;
  c.mqtt.password_file = "/etc/vigil/mqtt-password";
  Status s = CheckConfig(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("mqtt.username: a password (mqtt.password_file or VIGIL_MQTT_PASSWORD) needs a user name"),
            std::string::npos) << s.message();
  c.mqtt.password_file.clear();
  c.mqtt.password = "from-the-environment";
  EXPECT_FALSE(CheckConfig(c).ok());
  c.mqtt.username = "vigil";
  EXPECT_TRUE(CheckConfig(c).ok()) << CheckConfig(c).message();
}

TEST(ConfigTest, PasswordFileGivesItsFirstLineWithoutTheLineEnd) {
  vigil::testing::TempDir tmp;
  vigil::testing::WriteFileOrDie(tmp.path() + "/pw", "s3cret with spaces\r\nsecond line\n");
  Result<std::string> p = ReadSecretFile("mqtt.password_file", tmp.path() + "/pw");
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(*p, "s3cret with spaces");

  vigil::testing::WriteFileOrDie(tmp.path() + "/empty", "\n");
  Result<std::string> e = ReadSecretFile("mqtt.password_file", tmp.path() + "/empty");
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message().find("empty"), std::string::npos);

  Result<std::string> m = ReadSecretFile("mqtt.password_file", tmp.path() + "/missing");
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("mqtt.password_file " + tmp.path() + "/missing"), std::string::npos)
      << m.error().message();
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

// Issue 19: the model stage's evaluation and threshold keys.
TEST(ConfigTest, ModelSplitThresholdGoalAndTestFractionZero) {
  Result<Config> c = ParseConfigText(
      "[model]\ntest_fraction = 0\nsplit = \"machine\"\nrefit = false\nthreshold_goal = \"recall:0.9\"\n", "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->model.test_fraction, 0);
  EXPECT_EQ(c->model.split, "machine");
  EXPECT_FALSE(c->model.refit);
  EXPECT_EQ(c->model.threshold_goal, "recall:0.9");
  EXPECT_TRUE(CheckConfig(*c).ok());
  Config defaults;
  EXPECT_EQ(defaults.model.split, "auto");
  EXPECT_TRUE(defaults.model.refit);
  EXPECT_EQ(defaults.model.threshold_goal, "f1");
  EXPECT_EQ(defaults.model.warning_threshold, 0);  // the model's chosen threshold

  Result<Config> bad_split = ParseConfigText("[model]\nsplit = \"random\"\n", "t.toml");
  ASSERT_FALSE(bad_split);
  EXPECT_NE(bad_split.error().message().find("t.toml:2: model.split"), std::string::npos) << bad_split.error().message();
  for (const char* goal : {"recall:0", "recall:2", "cost:0", "cost:x", "f2", "precision:0.9"}) {
    Config g;
    g.model.threshold_goal = goal;
    Status s = CheckConfig(g);
    EXPECT_FALSE(s.ok()) << goal;
    EXPECT_NE(s.message().find("model.threshold_goal"), std::string::npos) << s.message();
  }
  for (double f : {0.01, 0.95, -0.1}) {
    Config g;
    g.model.test_fraction = f;
    EXPECT_FALSE(CheckConfig(g).ok()) << f;
  }
  Config ok;
  ok.model.threshold_goal = "cost:10";
  EXPECT_TRUE(CheckConfig(ok).ok());

  // Grouped k-fold by machine: model.folds, 2 or more; the final model always refits.
  Result<Config> kf = ParseConfigText("[model]\nsplit = \"machine_kfold\"\nfolds = 10\n", "t.toml");
  ASSERT_TRUE(kf) << kf.error().message();
  EXPECT_EQ(kf->model.split, "machine_kfold");
  EXPECT_EQ(kf->model.folds, 10);
  EXPECT_TRUE(CheckConfig(*kf).ok());
  EXPECT_EQ(defaults.model.folds, 5);
  kf->model.refit = false;
  Status no_refit = CheckConfig(*kf);
  EXPECT_FALSE(no_refit.ok());
  EXPECT_NE(no_refit.message().find("model.refit: must be true with model.split = \"machine_kfold\""), std::string::npos)
      << no_refit.message();
  Result<Config> one_fold = ParseConfigText("[model]\nfolds = 1\n", "t.toml");
  EXPECT_TRUE(!one_fold || !CheckConfig(*one_fold).ok());
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

TEST(ConfigTest, FleetModelTopicOutsideTheIngestPrefixWithoutWildcards) {
  Config c;
  EXPECT_EQ(c.fleet.model_topic, "vigil/fleet/model");
  EXPECT_TRUE(CheckConfig(c).ok());
  c.fleet.model_topic = "off";
  EXPECT_TRUE(CheckConfig(c).ok());
  c.fleet.model_topic = c.mqtt.topic_prefix + "/fleet";
  Status s = CheckConfig(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("fleet.model_topic: '" + c.fleet.model_topic + "' is under mqtt.topic_prefix"),
            std::string::npos) << s.message();
  c.fleet.model_topic = "vigil/fleet/#";
  s = CheckConfig(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("without wildcards"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

// model.rul_cap: off by default; a duration turns the remaining-useful-life model on for
// vigil train and vigil run's retraining; a malformed or too small value is a clear error.
TEST(ConfigTest, ModelRulCap) {
  EXPECT_EQ(Config().model.rul_cap_ms, 0);
  Result<Config> c = ParseConfigText("[model]\nrul_cap = \"125h\"\n", "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->model.rul_cap_ms, 125 * 3'600'000LL);
  EXPECT_TRUE(CheckConfig(*c).ok());

  Result<Config> bad = ParseConfigText("[model]\nseed = 2\nrul_cap = \"125 hours\"\n", "t.toml");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "t.toml:3: model.rul_cap: '125 hours': unknown unit ' hours' (ms, s, m, h, d)");
  Result<Config> number = ParseConfigText("[model]\nrul_cap = 125\n", "t.toml");
  ASSERT_FALSE(number);
  EXPECT_NE(number.error().message().find("t.toml:2: model.rul_cap"), std::string::npos) << number.error().message();

  Config small;
  small.model.rul_cap_ms = 500;  // below the 1 s window
  Status s = CheckConfig(small);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("model.rul_cap: must be 0ms (off) or at least one window"), std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace vigil
