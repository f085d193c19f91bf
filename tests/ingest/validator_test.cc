#include "ingest/validator.h"

#include <gtest/gtest.h>

#include <string>

#include "common/timestamp.h"

namespace vigil::ingest {
namespace {

constexpr int64_t kNow = 1760518900000;  // 2025-10-15T09:01:40Z

struct Case {
  const char* name;
  std::string topic;
  std::string payload;
  std::optional<Reason> reason;  // nullopt = accepted
};

std::string Vib(const std::string& id, const std::string& ts, const std::string& value) {
  return R"({"machine_id":")" + id + R"(","timestamp_utc":")" + ts + R"(","vibration_rms":)" + value + "}";
}

const std::string kVibTopic = "industrial/machine/PUMP-A01/telemetry/vibration";
const std::string kTs = "2025-10-15T09:00:01.123Z";

std::vector<Case> Cases() {
  const std::string t = "industrial/machine/PUMP-A01/";
  return {
      {"vibration ok", kVibTopic, Vib("PUMP-A01", kTs, "4.2"), std::nullopt},
      {"temperature ok", t + "telemetry/temperature",
       R"({"machine_id": "PUMP-A01", "timestamp_utc": "2025-10-15T09:00:01.123Z", "temperature_celsius": 75.4})", std::nullopt},
      {"failure ok", t + "event/failure",
       R"({"machine_id":"PUMP-A01","timestamp_utc":"2025-10-15T09:00:30Z","codigo_evento":"FALHA_VIBRACAO_ELEVADA"})", std::nullopt},
      {"failure alias event_code", t + "event/failure",
       R"({"machine_id":"PUMP-A01","timestamp_utc":"2025-10-15T09:00:30Z","event_code":"X"})", std::nullopt},
      {"integer value", kVibTopic, Vib("PUMP-A01", kTs, "4"), std::nullopt},
      {"extra fields kept", kVibTopic, R"({"machine_id":"PUMP-A01","timestamp_utc":")" + kTs + R"(","vibration_rms":1,"seq":7,"x":{"y":[1]}})", std::nullopt},
      {"range edges inclusive", kVibTopic, Vib("PUMP-A01", kTs, "100"), std::nullopt},
      {"offset timestamp", kVibTopic, Vib("PUMP-A01", "2025-10-15T11:00:01.123+02:00", "1"), std::nullopt},
      {"skew edge exactly 300 s", kVibTopic, Vib("PUMP-A01", "2025-10-15T09:06:40Z", "1"), std::nullopt},
      {"2000-01-01 edge", kVibTopic, Vib("PUMP-A01", "2000-01-01T00:00:00Z", "1"), std::nullopt},

      {"too large", kVibTopic, std::string(70000, ' ') + Vib("PUMP-A01", kTs, "1"), Reason::kTooLarge},
      {"not json", kVibTopic, "hello", Reason::kBadJson},
      {"truncated json", kVibTopic, R"({"machine_id":"PUMP-A01")", Reason::kBadJson},
      {"not utf-8", kVibTopic, "{\"machine_id\":\"\xff\xfe\"}", Reason::kBadJson},
      {"json array", kVibTopic, "[1,2]", Reason::kBadJson},
      {"json string", kVibTopic, "\"x\"", Reason::kBadJson},
      {"empty payload", kVibTopic, "", Reason::kBadJson},
      {"NaN literal", kVibTopic, Vib("PUMP-A01", kTs, "NaN"), Reason::kBadJson},
      {"wrong prefix", "factory/machine/PUMP-A01/telemetry/vibration", Vib("PUMP-A01", kTs, "1"), Reason::kBadTopic},
      {"too many levels", t + "telemetry/vibration/x", Vib("PUMP-A01", kTs, "1"), Reason::kBadTopic},
      {"too few levels", "industrial/machine/PUMP-A01/telemetry", Vib("PUMP-A01", kTs, "1"), Reason::kBadTopic},
      {"empty sensor", t + "telemetry/", Vib("PUMP-A01", kTs, "1"), Reason::kBadTopic},
      {"other event", t + "event/maintenance", Vib("PUMP-A01", kTs, "1"), Reason::kBadTopic},
      {"unknown kind", t + "status/vibration", Vib("PUMP-A01", kTs, "1"), Reason::kBadTopic},
      {"machine id ..", "industrial/machine/../telemetry/vibration", Vib("..", kTs, "1"), Reason::kBadMachineId},
      {"machine id .", "industrial/machine/./telemetry/vibration", Vib(".", kTs, "1"), Reason::kBadMachineId},
      {"machine id %2e%2e", "industrial/machine/%2e%2e/telemetry/vibration", Vib("%2e%2e", kTs, "1"), Reason::kBadMachineId},
      {"machine id empty", "industrial/machine//telemetry/vibration", Vib("", kTs, "1"), Reason::kBadMachineId},
      {"machine id too long", "industrial/machine/" + std::string(65, 'A') + "/telemetry/vibration", Vib(std::string(65, 'A'), kTs, "1"), Reason::kBadMachineId},
      {"machine id leading dash", "industrial/machine/-A/telemetry/vibration", Vib("-A", kTs, "1"), Reason::kBadMachineId},
      {"machine id space", "industrial/machine/A B/telemetry/vibration", Vib("A B", kTs, "1"), Reason::kBadMachineId},
      {"machine id backslash", "industrial/machine/A\\B/telemetry/vibration", Vib("A\\\\B", kTs, "1"), Reason::kBadMachineId},
      {"unknown sensor", t + "telemetry/pressure", R"({"machine_id":"PUMP-A01","timestamp_utc":")" + kTs + R"(","pressure":1})", Reason::kUnknownSensor},
      {"machine id missing", kVibTopic, R"({"timestamp_utc":")" + kTs + R"(","vibration_rms":1})", Reason::kMachineIdMismatch},
      {"machine id different", kVibTopic, Vib("PUMP-A02", kTs, "1"), Reason::kMachineIdMismatch},
      {"machine id not a string", kVibTopic, R"({"machine_id":5,"timestamp_utc":")" + kTs + R"(","vibration_rms":1})", Reason::kMachineIdMismatch},
      {"timestamp missing", kVibTopic, R"({"machine_id":"PUMP-A01","vibration_rms":1})", Reason::kBadTimestamp},
      {"timestamp not a string", kVibTopic, R"({"machine_id":"PUMP-A01","timestamp_utc":1760518801,"vibration_rms":1})", Reason::kBadTimestamp},
      {"timestamp without zone", kVibTopic, Vib("PUMP-A01", "2025-10-15T09:00:01.123", "1"), Reason::kBadTimestamp},
      {"timestamp garbage", kVibTopic, Vib("PUMP-A01", "yesterday", "1"), Reason::kBadTimestamp},
      {"timestamp Feb 30", kVibTopic, Vib("PUMP-A01", "2025-02-30T00:00:00Z", "1"), Reason::kBadTimestamp},
      {"timestamp 301 s ahead", kVibTopic, Vib("PUMP-A01", "2025-10-15T09:06:41Z", "1"), Reason::kTimestampOutOfRange},
      {"timestamp before 2000", kVibTopic, Vib("PUMP-A01", "1999-12-31T23:59:59.999Z", "1"), Reason::kTimestampOutOfRange},
      {"value missing", kVibTopic, R"({"machine_id":"PUMP-A01","timestamp_utc":")" + kTs + R"("})", Reason::kBadValue},
      {"value string", kVibTopic, Vib("PUMP-A01", kTs, "\"4.2\""), Reason::kBadValue},
      {"value null", kVibTopic, Vib("PUMP-A01", kTs, "null"), Reason::kBadValue},
      {"value huge (inf)", kVibTopic, Vib("PUMP-A01", kTs, "1e999"), Reason::kBadValue},
      {"failure without code", t + "event/failure", R"({"machine_id":"PUMP-A01","timestamp_utc":")" + kTs + R"("})", Reason::kBadValue},
      {"failure empty code", t + "event/failure", R"({"machine_id":"PUMP-A01","timestamp_utc":")" + kTs + R"(","codigo_evento":""})", Reason::kBadValue},
      {"value below range", kVibTopic, Vib("PUMP-A01", kTs, "-0.1"), Reason::kOutOfRange},
      {"value above range", kVibTopic, Vib("PUMP-A01", kTs, "100.01"), Reason::kOutOfRange},
      {"temperature below range", t + "telemetry/temperature", R"({"machine_id":"PUMP-A01","timestamp_utc":")" + kTs + R"(","temperature_celsius":-50.5})", Reason::kOutOfRange},
  };
}

TEST(ValidatorTest, EveryRuleAndReason) {
  Config config;
  Validator v(config);
  for (const Case& c : Cases()) {
    Verdict verdict = v.Validate(RawMessage{c.topic, c.payload, kNow});
    if (!c.reason) {
      const Rejection* r = std::get_if<Rejection>(&verdict);
      EXPECT_EQ(r, nullptr) << c.name << ": rejected as " << ReasonCode(r->reason) << ": " << r->detail;
    } else {
      const Rejection* r = std::get_if<Rejection>(&verdict);
      ASSERT_NE(r, nullptr) << c.name << ": accepted";
      EXPECT_EQ(ReasonCode(r->reason), ReasonCode(*c.reason)) << c.name << ": " << r->detail;
      EXPECT_FALSE(r->detail.empty()) << c.name;
    }
  }
}

TEST(ValidatorTest, EveryContractReasonIsCovered) {
  std::set<Reason> seen;
  for (const Case& c : Cases()) {
    if (c.reason) seen.insert(*c.reason);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kReasonCount - 1));  // all but torn_line
}

TEST(ValidatorTest, AcceptedMessageCarriesPartitionFieldsAndMinifiedPayload) {
  Config config;
  Validator v(config);
  std::string payload = "{ \"machine_id\": \"PUMP-A01\",\n \"timestamp_utc\": \"2025-10-15T11:00:01.1239+02:00\", \"vibration_rms\" : 4.2, \"note\": \"a b\" }";
  Verdict verdict = v.Validate(RawMessage{kVibTopic, payload, kNow});
  ASSERT_TRUE(std::holds_alternative<AcceptedMessage>(verdict));
  const auto& a = std::get<AcceptedMessage>(verdict);
  EXPECT_EQ(a.machine_id, "PUMP-A01");
  EXPECT_EQ(a.sensor, "vibration");
  EXPECT_EQ(a.event_ms, ParseTimestampMs("2025-10-15T09:00:01.123Z").value());
  EXPECT_DOUBLE_EQ(a.value, 4.2);
  EXPECT_EQ(a.minified, R"({"machine_id":"PUMP-A01","timestamp_utc":"2025-10-15T11:00:01.1239+02:00","vibration_rms":4.2,"note":"a b"})");
}

TEST(ValidatorTest, ConfiguredSensorsAndPrefix) {
  Config config;
  config.mqtt.topic_prefix = "plant/line1";
  config.sensors = {{"pressure", "pressure_bar", 0, 10}};
  Validator v(config);
  auto reason = [&](const std::string& topic, const std::string& payload) -> std::string {
    Verdict verdict = v.Validate(RawMessage{topic, payload, kNow});
    if (auto* r = std::get_if<Rejection>(&verdict)) return std::string(ReasonCode(r->reason));
    return "ok";
  };
  std::string p = R"({"machine_id":"M1","timestamp_utc":")" + kTs + R"(","pressure_bar":2.5})";
  EXPECT_EQ(reason("plant/line1/M1/telemetry/pressure", p), "ok");
  EXPECT_EQ(reason("industrial/machine/M1/telemetry/pressure", p), "bad_topic");
  EXPECT_EQ(reason("plant/line1/M1/telemetry/vibration", Vib("M1", kTs, "1")), "unknown_sensor");
  EXPECT_EQ(reason("plant/line1/M1/telemetry/pressure", R"({"machine_id":"M1","timestamp_utc":")" + kTs + R"(","pressure_bar":10.5})"), "out_of_range");
}

TEST(ValidatorTest, PayloadLimitIsConfigurable) {
  Config config;
  config.ingest.max_payload_bytes = 50;
  Validator v(config);
  Verdict verdict = v.Validate(RawMessage{kVibTopic, Vib("PUMP-A01", kTs, "1"), kNow});
  ASSERT_TRUE(std::holds_alternative<Rejection>(verdict));
  EXPECT_EQ(std::get<Rejection>(verdict).reason, Reason::kTooLarge);
}

// Fuzzing (fuzz_validator): an empty payload whose data() is null reached memcpy, undefined
// behaviour that UBSan reports (the ASan/UBSan build of these tests fails on it).
TEST(ValidatorTest, EmptyPayloadWithNullDataIsBadJson) {
  Config c;
  Validator v(c);
  Verdict r = v.Validate(RawMessage{kVibTopic, std::string_view(), kNow});
  ASSERT_TRUE(std::holds_alternative<Rejection>(r));
  EXPECT_EQ(std::get<Rejection>(r).reason, Reason::kBadJson);
}

TEST(ValidatorTest, MachineIds) {
  EXPECT_TRUE(IsValidMachineId("PUMP-A01"));
  EXPECT_TRUE(IsValidMachineId("a"));
  EXPECT_TRUE(IsValidMachineId("A..B"));  // one path component, not a parent reference
  EXPECT_TRUE(IsValidMachineId(std::string(64, 'x')));
  for (const std::string& bad : std::vector<std::string>{"", ".", "..", ".hidden", "_x", "-x", "a/b", "a\\b", "%2e%2e", "a b",
                          "a\nb", std::string(65, 'x'), std::string("a\0b", 3), "é"}) {
    EXPECT_FALSE(IsValidMachineId(bad)) << bad;
  }
}

}  // namespace
}  // namespace vigil::ingest
