// vigil status: lake counts by area and quarantine by reason, text and --json.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>

#include "integration/harness.h"
#include "test_util.h"

namespace vigil::testing {
namespace {

TEST(StatusIntegration, JsonCountsMatchTheLake) {
  TempDir tmp;
  std::string csv = tmp.path() + "/h.csv";
  WriteFileOrDie(csv, "machine_id,timestamp_utc,sensor,value\n"
                      "M1,2025-10-15T09:00:00Z,vibration,1\nM2,2025-10-16T09:00:00Z,vibration,2\n"
                      "M1,2025-10-15T09:00:00,vibration,3\nM1,2025-10-15T09:00:01Z,vibration,300\n");
  std::string data = tmp.path() + "/d";
  Process import({VigilBinary(), "import", "--data-dir", data, csv}, tmp.path() + "/import.log");
  ASSERT_EQ(import.Wait(30000), 3);  // some rows rejected
  std::string out = tmp.path() + "/status.json";
  Process status({"/bin/sh", "-c", VigilBinary() + " status --json --data-dir " + data + " > " + out}, tmp.path() + "/status.log");
  ASSERT_EQ(status.Wait(30000), 0) << ReadFileOrDie(tmp.path() + "/status.log");
  simdjson::dom::parser p;
  simdjson::dom::element e;
  ASSERT_EQ(p.parse(ReadFileOrDie(out)).get(e), simdjson::SUCCESS) << ReadFileOrDie(out);
  EXPECT_EQ(int64_t(e["lake"]["raw"]["segments"]), 2);
  EXPECT_EQ(int64_t(e["quarantine_by_reason"]["bad_timestamp"]), 1);
  EXPECT_EQ(int64_t(e["quarantine_by_reason"]["out_of_range"]), 1);
  EXPECT_EQ(std::string_view(e["machines"]["M2"]["newest_event_date"]), "2025-10-16");
  EXPECT_EQ(int64_t(e["daemon_pid"]), 0);

  // After processing, the feature store part.
  Process proc({VigilBinary(), "process", "--data-dir", data}, tmp.path() + "/process.log");
  ASSERT_EQ(proc.Wait(30000), 0) << ReadFileOrDie(tmp.path() + "/process.log");
  Process status2({"/bin/sh", "-c", VigilBinary() + " status --json --data-dir " + data + " > " + out}, tmp.path() + "/status.log");
  ASSERT_EQ(status2.Wait(30000), 0);
  ASSERT_EQ(p.parse(ReadFileOrDie(out)).get(e), simdjson::SUCCESS) << ReadFileOrDie(out);
  EXPECT_EQ(int64_t(e["feature_store"]["batches"]), 1);
  EXPECT_EQ(std::string_view(e["feature_store"]["machines"]["M2"]["iso10816_zone"]), "good");  // 2 mm/s
  EXPECT_EQ(double(e["feature_store"]["machines"]["M2"]["latest"]["vibration_rms"]), 2.0);
  EXPECT_EQ(int64_t(e["feature_store"]["machines"]["M1"]["labels"]["null"]), 1);

  Process missing({VigilBinary(), "status", "--data-dir", tmp.path() + "/nope"}, tmp.path() + "/missing.log");
  EXPECT_EQ(missing.Wait(30000), 2);
}

// A quarantine segment larger than the piece status reads at a time (16 MiB): every line
// counted once, the last one without its newline too.
TEST(StatusIntegration, CountsEveryLineOfAQuarantineSegmentLargerThanAPiece) {
  TempDir tmp;
  const std::string data = tmp.path() + "/d";
  const std::string dir = data + "/lake/quarantine/date=2025-10-15";
  std::filesystem::create_directories(dir);
  const std::string line = R"({"received_at":"2025-10-15T09:00:00.000Z","reason":"bad_json","detail":")" +
                           std::string(160, 'x') + "\"}";
  const int lines = 100'000;  // ~20 MB
  std::string text;
  for (int i = 0; i < lines; ++i) text += line + (i + 1 < lines ? "\n" : "");
  WriteFileOrDie(dir + "/q-1-1.jsonl", text);
  const std::string out = tmp.path() + "/status.json";
  Process status({"/bin/sh", "-c", VigilBinary() + " status --json --data-dir " + data + " > " + out}, tmp.path() + "/status.log");
  ASSERT_EQ(status.Wait(30000), 0) << ReadFileOrDie(tmp.path() + "/status.log");
  simdjson::dom::parser p;
  simdjson::dom::element e;
  ASSERT_EQ(p.parse(ReadFileOrDie(out)).get(e), simdjson::SUCCESS) << ReadFileOrDie(out);
  EXPECT_EQ(int64_t(e["quarantine_by_reason"]["bad_json"]), lines);
  EXPECT_EQ(int64_t(e["lake"]["quarantine"]["segments"]), 1);
}

}  // namespace
}  // namespace vigil::testing
