// The [simulate] section: parsing, checks, and config/vigil.toml documenting every key
// with its built-in default.
#include <gtest/gtest.h>

#include "common/config_options.h"
#include "sim/fleet.h"
#include "test_util.h"
#include "vigil/config.h"

namespace vigil {
namespace {

TEST(SimulateConfigTest, ParsesEveryKey) {
  Result<Config> c = ParseConfigText(R"(
[simulate]
machines = ["A-1", "B-2"]
base_levels = ["A:1.0:30", "*:3:70"]
seed = 7
interval = "30s"
failure_threshold = 9.5
repair_time = "2h"
mean_time_to_failure = "10d"
bad_rate = 0.25
qos = 0
max_rate = 500
max_in_flight = 64
client_id = "sim-2"
)", "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_OK(CheckConfig(*c));
  EXPECT_EQ(c->simulate.machines, (std::vector<std::string>{"A-1", "B-2"}));
  EXPECT_EQ(c->simulate.seed, 7);
  EXPECT_EQ(c->simulate.interval_ms, 30'000);
  EXPECT_EQ(c->simulate.failure_threshold, 9.5);
  EXPECT_EQ(c->simulate.repair_time_ms, 7'200'000);
  EXPECT_EQ(c->simulate.mean_time_to_failure_ms, 864'000'000);
  EXPECT_EQ(c->simulate.bad_rate, 0.25);
  EXPECT_EQ(c->simulate.qos, 0);
  EXPECT_EQ(c->simulate.max_rate, 500);
  EXPECT_EQ(c->simulate.max_in_flight, 64);
  EXPECT_EQ(c->simulate.client_id, "sim-2");
  Result<sim::FleetOptions> o = sim::FleetOptions::FromConfig(*c);
  ASSERT_TRUE(o.has_value());
  ASSERT_EQ(o->base_levels.size(), 2u);
  EXPECT_EQ(o->base_levels[1].temperature_c, 70.0);
  EXPECT_EQ(o->failure_threshold, 9.5);
}

TEST(SimulateConfigTest, ErrorsNameTheLineAndKey) {
  Result<Config> c = ParseConfigText("[simulate]\nseed = 1\nfailure_threshold = \"high\"\nmachines = [1]\nbad_rate = 2.0\n", "t.toml");
  ASSERT_FALSE(c.has_value());
  const std::string& m = c.error().message();
  EXPECT_NE(m.find("t.toml:3: simulate.failure_threshold: expected a number"), std::string::npos) << m;
  EXPECT_NE(m.find("t.toml:4: simulate.machines: expected an array of strings"), std::string::npos) << m;
  EXPECT_NE(m.find("t.toml:5: simulate.bad_rate: 2 is out of range [0, 1]"), std::string::npos) << m;

  Config bad;
  bad.simulate.machines = {"PUMP-A01", "../etc", "PUMP-A01"};
  bad.simulate.client_id = bad.mqtt.client_id;
  Status s = CheckConfig(bad);
  EXPECT_NE(s.message().find("'../etc' must match"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("'PUMP-A01' is listed twice"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("simulate.client_id: must be non-empty and differ"), std::string::npos) << s.message();

  Config levels;
  levels.simulate.base_levels = {"PUMP-2.0-55"};
  EXPECT_FALSE(sim::FleetOptions::FromConfig(levels).has_value());
}

TEST(SimulateConfigTest, ExampleFileDocumentsEverySimulateKeyWithItsDefault) {
  const std::string path = std::string(VIGIL_SOURCE_DIR) + "/config/vigil.toml";
  const std::string text = testing::ReadFileOrDie(path);
  Result<Config> file = LoadConfigFile(path);
  ASSERT_TRUE(file.has_value()) << file.error().message();
  const Config defaults;
  const size_t section = text.find("\n[simulate]\n");
  ASSERT_NE(section, std::string::npos);
  int keys = 0;
  for (const config_internal::Option& o : config_internal::Options()) {
    const std::string key = o.key;
    if (!key.starts_with("simulate.")) continue;
    ++keys;
    EXPECT_NE(text.find("\n" + key.substr(9) + " = ", section), std::string::npos) << key << " is not documented";
    EXPECT_EQ(config_internal::TomlValue(o, *file), config_internal::TomlValue(o, defaults)) << key;
  }
  EXPECT_EQ(keys, 12);
}

}  // namespace
}  // namespace vigil
