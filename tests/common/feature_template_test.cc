// [[feature_templates]]: sensors x aggregates x durations expanded into named feature
// columns at load time (common/config.cc). Parsing edge cases first, then the expansion.
#include <gtest/gtest.h>

#include "vigil/config.h"

namespace vigil {
namespace {

const char kSensors[] =
    "[[sensors]]\nname = \"s02\"\nfield = \"s02\"\nmin = -1e9\nmax = 1e9\n"
    "[[sensors]]\nname = \"s03\"\nfield = \"s03\"\nmin = -1e9\nmax = 1e9\n"
    "[[sensors]]\nname = \"pump-1.flow\"\nfield = \"flow\"\nmin = 0\nmax = 100\n";

Result<Config> Parse(const std::string& body) { return ParseConfigText(std::string(kSensors) + body, "t.toml"); }

// The error text, or "" when the file parsed and checked.
std::string Problems(const std::string& body) {
  Result<Config> c = Parse(body);
  if (!c) return c.error().message();
  Status s = CheckConfig(*c);
  return s.ok() ? "" : s.message();
}

struct BadCase {
  const char* what;
  const char* toml;
  const char* expected;  // a piece of the message, with the line where it says one
};

TEST(FeatureTemplateTest, MalformedTemplatesAreRejectedWithLineAndKey) {
  // kSensors is 15 lines: a template's [[feature_templates]] header is line 16.
  const BadCase cases[] = {
      {"sensors missing", "[[feature_templates]]\naggregates = [\"mean\"]\ndurations = [\"5h\"]\n",
       "t.toml:16: feature_templates: a template needs sensors, aggregates and durations"},
      {"durations missing", "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"mean\"]\n",
       "'durations' is missing"},
      {"empty list", "[[feature_templates]]\nsensors = []\naggregates = [\"mean\"]\ndurations = [\"5h\"]\n",
       "t.toml:17: feature_templates.sensors: expected a non-empty list of strings"},
      {"a string, not a list", "[[feature_templates]]\nsensors = \"s02\"\naggregates = [\"mean\"]\ndurations = [\"5h\"]\n",
       "t.toml:17: feature_templates.sensors: expected a non-empty list of strings"},
      {"a number in a list", "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"mean\"]\ndurations = [5]\n",
       "t.toml:19: feature_templates.durations: expected a string"},
      {"unknown aggregate", "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"median\"]\ndurations = [\"5h\"]\n",
       "t.toml:18: feature_templates.aggregates: 'median' is not one of"},
      {"bad duration", "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"mean\"]\ndurations = [\"5 hours\"]\n",
       "t.toml:19: feature_templates.durations: '5 hours': unknown unit ' hours'"},
      {"unknown unit", "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"mean\"]\ndurations = [\"5w\"]\n",
       "unknown unit 'w'"},
      {"zero duration", "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"mean\"]\ndurations = [\"0h\"]\n",
       "features 's02_mean_0h': duration must be positive"},
      {"unknown key", "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"mean\"]\ndurations = [\"5h\"]\nname = \"x\"\n",
       "t.toml:20: feature_templates.name: unknown key (expected sensors, aggregates, durations)"},
      {"unknown sensor", "[[feature_templates]]\nsensors = [\"s99\"]\naggregates = [\"mean\"]\ndurations = [\"5h\"]\n",
       "t.toml:16: feature_templates.sensors: unknown sensor 's99'"},
      {"sensor listed twice", "[[feature_templates]]\nsensors = [\"s02\", \"s02\"]\naggregates = [\"mean\"]\ndurations = [\"5h\"]\n",
       "feature_templates.sensors: 's02' is listed twice"},
      {"duplicate within templates",
       "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"mean\"]\ndurations = [\"5h\"]\n"
       "[[feature_templates]]\nsensors = [\"s02\", \"s03\"]\naggregates = [\"mean\"]\ndurations = [\"5h\"]\n",
       "t.toml:20: feature_templates: expands to 's02_mean_5h', which the template at t.toml:16 also defines"},
      {"same definition under another name between templates",
       "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"max\"]\ndurations = [\"24h\"]\n"
       "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"max\"]\ndurations = [\"1d\"]\n",
       "t.toml:20: feature_templates: 's02_max_1d' (s02 max over 1d) computes the same as 's02_max_24h'"},
      {"name clash with [[features]]",
       "[[features]]\nname = \"s02_mean_5h\"\nsensor = \"s03\"\naggregate = \"min\"\nduration = \"1h\"\n"
       "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"mean\"]\ndurations = [\"5h\"]\n",
       "t.toml:21: feature_templates: expands to 's02_mean_5h', which [[features]] at line 16 also defines"},
      {"same definition as [[features]] under another name",
       "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"std\"]\ndurations = [\"5h\"]\n"
       "[[features]]\nname = \"wobble\"\nsensor = \"s02\"\naggregate = \"std\"\nduration = \"300m\"\n",
       "t.toml:16: feature_templates: 's02_std_5h' (s02 std over 5h) computes the same as 'wobble' of [[features]] at line 20"},
      {"name clash with a sensor column",
       "[[sensors]]\nname = \"x\"\nfield = \"s02_last_1h\"\nmin = 0\nmax = 1\n"
       "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"last\"]\ndurations = [\"1h\"]\n",
       "features 's02_last_1h': name clashes with another feature or sensor field"},
  };
  for (const BadCase& k : cases) {
    std::string problems = Problems(k.toml);
    EXPECT_NE(problems.find(k.expected), std::string::npos)
        << k.what << ": expected '" << k.expected << "' in:\n" << problems;
  }
}

TEST(FeatureTemplateTest, NotAnArrayOfTablesIsRejected) {
  Result<Config> c = ParseConfigText("feature_templates = 3\n", "t.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("t.toml:1: feature_templates: expected [[feature_templates]] tables"),
            std::string::npos)
      << c.error().message();
  c = ParseConfigText("[feature_templates]\nsensors = [\"vibration\"]\n", "t.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("expected [[feature_templates]] tables"), std::string::npos) << c.error().message();
}

TEST(FeatureTemplateTest, ExpandsSensorMajorInListedOrderAfterExplicitFeatures) {
  Result<Config> c = Parse(
      "[[feature_templates]]\nsensors = [\"s03\", \"s02\"]\naggregates = [\"mean\", \"std\"]\ndurations = [\"5h\", \"90m\"]\n"
      "[[features]]\nname = \"flow_last\"\nsensor = \"pump-1.flow\"\naggregate = \"last\"\nduration = \"1m\"\n"
      "[[feature_templates]]\nsensors = [\"pump-1.flow\"]\naggregates = [\"count\"]\ndurations = [\"1500ms\"]\n");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  ASSERT_TRUE(CheckConfig(*c).ok()) << CheckConfig(*c).message();
  std::vector<std::string> names;
  for (const FeatureSpec& f : c->features) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"flow_last", "s03_mean_5h", "s03_mean_90m", "s03_std_5h", "s03_std_90m",
                                             "s02_mean_5h", "s02_mean_90m", "s02_std_5h", "s02_std_90m",
                                             "pump_1_flow_count_1500ms"}));
  EXPECT_EQ(c->feature_templates.count("flow_last"), 0u);
  EXPECT_EQ(c->feature_templates.at("s03_mean_5h"), "t.toml:16");
  EXPECT_EQ(c->features[2].duration_ms, 90 * 60'000);
  EXPECT_EQ(c->features[3].aggregate, Aggregate::kStd);
  EXPECT_EQ(c->features[3].sensor, "s03");
  EXPECT_EQ(c->features[9].sensor, "pump-1.flow");
  EXPECT_EQ(c->feature_templates.at("pump_1_flow_count_1500ms"), "t.toml:25");
  EXPECT_EQ(c->features[9].duration_ms, 1500);
}

TEST(FeatureTemplateTest, TemplatesAloneReplaceTheDefaultFeatures) {
  Result<Config> c = ParseConfigText(
      "[[feature_templates]]\nsensors = [\"vibration\"]\naggregates = [\"min\"]\ndurations = [\"1h\"]\n", "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  ASSERT_EQ(c->features.size(), 1u);
  EXPECT_EQ(c->features[0].name, "vibration_min_1h");
  EXPECT_TRUE(CheckConfig(*c).ok());
}

TEST(FeatureTemplateTest, SensorsDeclaredAfterTheTemplateAreKnown) {
  Result<Config> c = ParseConfigText(
      "[[feature_templates]]\nsensors = [\"p\"]\naggregates = [\"max\"]\ndurations = [\"2h\"]\n"
      "[[sensors]]\nname = \"p\"\nfield = \"p_bar\"\nmin = 0\nmax = 16\n",
      "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  ASSERT_EQ(c->features.size(), 1u);
  EXPECT_EQ(c->features[0].name, "p_max_2h");
}

TEST(FeatureTemplateTest, AnExpandedTemplateEqualsTheSameExplicitFeatures) {
  // The same columns whichever way they are written: the same table, the same store
  // fingerprint (store/schema.cc), so switching a config to templates needs no reprocess.
  Result<Config> t = Parse("[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"mean\", \"max\"]\ndurations = [\"5h\"]\n");
  Result<Config> e = Parse(
      "[[features]]\nname = \"s02_mean_5h\"\nsensor = \"s02\"\naggregate = \"mean\"\nduration = \"5h\"\n"
      "[[features]]\nname = \"s02_max_5h\"\nsensor = \"s02\"\naggregate = \"max\"\nduration = \"5h\"\n");
  ASSERT_TRUE(t.has_value()) << t.error().message();
  ASSERT_TRUE(e.has_value()) << e.error().message();
  ASSERT_EQ(t->features.size(), e->features.size());
  for (size_t i = 0; i < t->features.size(); ++i) {
    EXPECT_EQ(t->features[i].name, e->features[i].name);
    EXPECT_EQ(t->features[i].sensor, e->features[i].sensor);
    EXPECT_EQ(t->features[i].aggregate, e->features[i].aggregate);
    EXPECT_EQ(t->features[i].duration_ms, e->features[i].duration_ms);
  }
}

TEST(FeatureTemplateTest, ListingNamesEachColumnAndItsTemplate) {
  Result<Config> c = Parse(
      "[[features]]\nname = \"w\"\nsensor = \"s03\"\naggregate = \"last\"\nduration = \"24h\"\n"
      "[[feature_templates]]\nsensors = [\"s02\"]\naggregates = [\"count\"]\ndurations = [\"5h\"]\n");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(FeatureListing(*c),
            "  w             s03 last 1d\n"
            "  s02_count_5h  s02 count 5h  (template at t.toml:21)\n");
}

TEST(FeatureTemplateTest, NamesFollowTheSchemeOfTheDefaults) {
  EXPECT_EQ(TemplateFeatureName("vib", Aggregate::kMean, "5h"), "vib_mean_5h");
  EXPECT_EQ(TemplateFeatureName("temp", Aggregate::kMax, "24h"), "temp_max_24h");
  EXPECT_EQ(TemplateFeatureName("a.b-c", Aggregate::kLast, "30s"), "a_b_c_last_30s");
}

}  // namespace
}  // namespace vigil
