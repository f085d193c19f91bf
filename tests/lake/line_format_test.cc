#include "lake/line_format.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "common/json_text.h"

namespace vigil::lake {
namespace {

simdjson::dom::element Parse(simdjson::dom::parser& p, const std::string& line) {
  EXPECT_EQ(line.back(), '\n');
  simdjson::dom::element e;
  EXPECT_EQ(p.parse(line.substr(0, line.size() - 1)).get(e), simdjson::SUCCESS) << line;
  return e;
}

TEST(EnvelopeTest, RawLine) {
  std::string out;
  AppendRawLine(1760518801500, "industrial/machine/M1/telemetry/vibration", R"({"a":1})", &out);
  EXPECT_EQ(out, R"({"received_at":"2025-10-15T09:00:01.500Z","topic":"industrial/machine/M1/telemetry/vibration","payload":{"a":1}})" "\n");
}

TEST(EnvelopeTest, QuarantineKeepsJsonPayloadAsJson) {
  std::string out;
  AppendQuarantineLine(0, "t", Reason::kMachineIdMismatch, "differs \"x\"", R"({ "a" : 1 })",
                       std::string_view(R"({"a":1})"), &out);
  simdjson::dom::parser p;
  auto e = Parse(p, out);
  EXPECT_EQ(std::string_view(e["reason"]), "machine_id_mismatch");
  EXPECT_EQ(std::string_view(e["detail"]), "differs \"x\"");
  EXPECT_EQ(int64_t(e["payload"]["a"]), 1);
}

TEST(EnvelopeTest, QuarantineTextPayloadAsString) {
  std::string out;
  AppendQuarantineLine(0, "t", Reason::kBadJson, "d", "not json\n\"quoted\"\x01", std::nullopt, &out);
  simdjson::dom::parser p;
  auto e = Parse(p, out);
  EXPECT_EQ(std::string_view(e["payload"]), "not json\n\"quoted\"\x01");
  EXPECT_TRUE(e["payload_encoding"].error());
}

TEST(EnvelopeTest, QuarantineBinaryPayloadAsBase64) {
  std::string out, bytes("\xff\x00\xfe{", 4);
  AppendQuarantineLine(0, "t", Reason::kBadJson, "d", bytes, std::nullopt, &out);
  simdjson::dom::parser p;
  auto e = Parse(p, out);
  EXPECT_EQ(std::string_view(e["payload_encoding"]), "base64");
  EXPECT_EQ(Base64Decode(std::string_view(e["payload"])), bytes);
}

TEST(EnvelopeTest, NonUtf8TopicIsBase64) {
  std::string out, topic("a/\xc3\x28/b", 6);
  AppendQuarantineLine(0, topic, Reason::kBadTopic, "d", "{}", std::string_view("{}"), &out);
  simdjson::dom::parser p;
  auto e = Parse(p, out);
  EXPECT_EQ(Base64Decode(std::string_view(e["topic_base64"])), topic);
}

TEST(JsonTextTest, Base64RoundTrip) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\1\2\3\xff", 5)}) {
    std::string b;
    AppendBase64(s, &b);
    EXPECT_EQ(b.size() % 4, 0u);
    EXPECT_EQ(Base64Decode(b), s);
  }
  std::string b;
  AppendBase64("Man", &b);
  EXPECT_EQ(b, "TWFu");
}

// Found by fuzz_lake_line: a key after "payload" must not make it into the payload bytes.
TEST(ParseRawLineTest, AKeyAfterThePayloadIsNotARawLine) {
  simdjson::dom::parser parser;
  RawLine raw;
  std::string why;
  const std::string good = R"({"received_at":"2025-10-15T09:00:01.500Z","topic":"t","payload":{"timestamp_utc":"2025-10-15T09:00:01Z"}})";
  ASSERT_TRUE(ParseRawLine(good, parser, &raw, &why)) << why;
  EXPECT_EQ(raw.payload, R"({"timestamp_utc":"2025-10-15T09:00:01Z"})");
  const std::string bad = R"({"received_at":"2025-10-15T09:00:01.500Z","topic":"t","payload":{"timestamp_utc":"2025-10-15T09:00:01Z"},"x":{"y":1}})";
  EXPECT_FALSE(ParseRawLine(bad, parser, &raw, &why));
  EXPECT_NE(why.find("keys other than"), std::string::npos) << why;
}

// The envelope is first matched in place; a topic that needs escapes is matched through
// the rebuilt prefix; another layout (a space, another key order) is not a raw line.
TEST(ParseRawLineTest, EscapedStringsMatchThroughTheRebuiltPrefixOtherLayoutsFail) {
  simdjson::dom::parser parser;
  RawLine raw;
  std::string why;
  std::string line;
  AppendRawLine(1760518801500, "a\"b\\c\u0001", R"({"timestamp_utc":"2025-10-15T09:00:01Z","v":1})", &line);
  line.pop_back();  // the newline
  ASSERT_TRUE(ParseRawLine(line, parser, &raw, &why)) << why << " " << line;
  EXPECT_EQ(raw.topic, "a\"b\\c\u0001");
  EXPECT_EQ(raw.payload, R"({"timestamp_utc":"2025-10-15T09:00:01Z","v":1})");
  for (const std::string bad :
       {R"({"received_at": "2025-10-15T09:00:01.500Z","topic":"t","payload":{"timestamp_utc":"2025-10-15T09:00:01Z"}})",
        R"({"topic":"t","received_at":"2025-10-15T09:00:01.500Z","payload":{"timestamp_utc":"2025-10-15T09:00:01Z"}})"}) {
    EXPECT_FALSE(ParseRawLine(bad, parser, &raw, &why)) << bad;
    EXPECT_EQ(why, "unexpected envelope layout") << bad;
  }
}

TEST(SplitTopicTest, ExactlyThreeLevelsAfterThePrefix) {
  TopicParts t;
  ASSERT_TRUE(SplitTopic("industrial/machine/M1/telemetry/vibration", "industrial/machine/", &t));
  EXPECT_EQ(t.machine_id, "M1");
  EXPECT_EQ(t.type, "telemetry");
  EXPECT_EQ(t.name, "vibration");
  ASSERT_TRUE(SplitTopic("p/M1/event/failure", "p/", &t));
  EXPECT_EQ(t.name, "failure");
  ASSERT_TRUE(SplitTopic("p///", "p/", &t));  // empty levels: the caller rejects them
  EXPECT_TRUE(t.machine_id.empty());
  EXPECT_FALSE(SplitTopic("q/M1/telemetry/x", "p/", &t));
  EXPECT_FALSE(SplitTopic("p/M1/telemetry", "p/", &t));
  EXPECT_FALSE(SplitTopic("p/M1/telemetry/x/y", "p/", &t));
  EXPECT_FALSE(SplitTopic("p/", "p/", &t));
}

TEST(OutputTopicTest, VigilsOwnPredictionsAndAlertsOnly) {
  EXPECT_EQ(OutputTopic("industrial/machine", "M1", kPredictionLevel), "industrial/machine/M1/prediction");
  EXPECT_EQ(OutputTopic("p", "M1", kAlertLevel), "p/M1/alert");
  EXPECT_TRUE(IsOutputTopic(OutputTopic("industrial/machine", "PUMP-A01", kPredictionLevel), "industrial/machine/"));
  EXPECT_TRUE(IsOutputTopic("p/M1/alert", "p/"));
  EXPECT_FALSE(IsOutputTopic("q/M1/alert", "p/"));                 // another prefix
  EXPECT_FALSE(IsOutputTopic("p//alert", "p/"));                   // no machine level
  EXPECT_FALSE(IsOutputTopic("p/alert", "p/"));
  EXPECT_FALSE(IsOutputTopic("p/M1/x/alert", "p/"));               // one level too many
  EXPECT_FALSE(IsOutputTopic("p/M1/telemetry/alert", "p/"));       // a sensor named alert is telemetry
  EXPECT_FALSE(IsOutputTopic("p/M1/myalert", "p/"));
  EXPECT_FALSE(IsOutputTopic("p/M1/predictions", "p/"));
  EXPECT_FALSE(IsOutputTopic("p/M1/telemetry/vibration", "p/"));
  EXPECT_FALSE(IsOutputTopic("p/M1/event/failure", "p/"));
}

}  // namespace
}  // namespace vigil::lake
