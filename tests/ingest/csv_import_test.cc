#include "ingest/csv_import.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "lake/file_system.h"
#include "test_util.h"

namespace vigil::ingest {
namespace {

using vigil::testing::ReadAllLines;
using vigil::testing::TempDir;
using vigil::testing::WriteFileOrDie;

constexpr int64_t kNow = 1760600000000;  // 2025-10-16T07:33:20Z

class CsvImportTest : public ::testing::Test {
 protected:
  ImportReport Import(const std::string& csv, CsvFormat format, Status* status = nullptr) {
    std::string path = tmp_.path() + "/in-" + std::to_string(++n_) + ".csv";
    WriteFileOrDie(path, csv);
    lake::LakeWriter writer(config_.lake, lake_, clock_, lake::PosixFileSystem::Instance());
    IngestSink sink(config_, writer);
    CsvImporter importer(config_, sink, clock_);
    ImportReport report;
    Status s = importer.ImportFile(path, format, &report);
    if (status) *status = s;
    else EXPECT_TRUE(s.ok()) << s.message();
    EXPECT_TRUE(writer.Close().ok());
    return report;
  }
  std::vector<std::string> Payloads(const std::string& prefix) {
    std::vector<std::string> out;
    for (const std::string& l : ReadAllLines(lake_, prefix)) {
      out.push_back(l.substr(l.find("\"payload\":")));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  TempDir tmp_;
  std::string lake_ = tmp_.path() + "/lake";
  FakeClock clock_{kNow};
  Config config_;
  int n_ = 0;
};

TEST_F(CsvImportTest, LongFormatGoodAndBadRowsWithLineNumbers) {
  ImportReport r = Import(
      "machine_id,timestamp_utc,sensor,value\n"
      "M1,2025-10-15T09:00:00Z,vibration,4.2\n"
      "M1,2025-10-15T09:00:01Z,vibration,abc\n"
      "\"M1\",\"2025-10-15T09:00:02Z\",\"temperature\",\"70.5\"\n"
      "M1,2025-10-15T09:00:03,vibration,1\n"
      "M1,2025-10-15T09:00:04Z,pressure,3\n"
      "../x,2025-10-15T09:00:05Z,vibration,1\n"
      "M1,2025-10-15T09:00:06Z,vibration\n"
      "M1,2025-10-15T09:00:07Z,vibration,NaN\n",
      CsvFormat::kLong);
  EXPECT_EQ(r.rows, 8u);
  EXPECT_EQ(r.accepted, 2u);
  EXPECT_EQ(r.rejected, 6u);
  ASSERT_EQ(r.rejections.size(), 6u);
  std::vector<std::pair<int64_t, std::string>> got;
  for (const auto& x : r.rejections) got.emplace_back(x.line, std::string(ReasonCode(x.reason)));
  EXPECT_EQ(got, (std::vector<std::pair<int64_t, std::string>>{
                     {3, "bad_value"}, {5, "bad_timestamp"}, {6, "unknown_sensor"},
                     {7, "bad_machine_id"}, {8, "bad_json"}, {9, "bad_value"}}));
  EXPECT_EQ(ReadAllLines(lake_, "quarantine/").size(), 6u);  // nothing dropped
  EXPECT_EQ(Payloads("raw/date=2025-10-15/machine_id=M1/"),
            (std::vector<std::string>{
                R"("payload":{"machine_id":"M1","timestamp_utc":"2025-10-15T09:00:00Z","vibration_rms":4.2}})",
                R"("payload":{"machine_id":"M1","timestamp_utc":"2025-10-15T09:00:02Z","temperature_celsius":70.5}})"}));
}

TEST_F(CsvImportTest, WideAndLongOfTheSameDataGiveTheSamePayloads) {
  Import("machine_id,timestamp_utc,vibration_rms,temperature_celsius\n"
         "M1,2025-10-15T09:00:00Z,4.2,70\n"
         "M1,2025-10-15T09:00:01Z,,71\n"
         "M2,2025-10-15T09:00:02Z,1e-1,\n",
         CsvFormat::kWide);
  std::vector<std::string> wide = Payloads("raw/");
  ASSERT_EQ(wide.size(), 4u);
  lake_ = tmp_.path() + "/lake-long";
  Import("machine_id,timestamp_utc,sensor,value\n"
         "M1,2025-10-15T09:00:00Z,vibration,4.2\n"
         "M1,2025-10-15T09:00:00Z,temperature,70\n"
         "M1,2025-10-15T09:00:01Z,temperature,71\n"
         "M2,2025-10-15T09:00:02Z,vibration,1e-1\n",
         CsvFormat::kLong);
  EXPECT_EQ(Payloads("raw/"), wide);
}

TEST_F(CsvImportTest, ManySensorConfiguration) {
  config_.sensors.clear();
  config_.features.clear();
  for (int i = 0; i < 24; ++i) {
    config_.sensors.push_back({"ch" + std::to_string(i), "ch" + std::to_string(i) + "_value", -10.0 * i, 10.0 * i + 1});
  }
  std::string header = "machine_id,timestamp_utc", row = "M1,2025-10-15T09:00:00Z";
  for (int i = 0; i < 24; ++i) {
    header += ",ch" + std::to_string(i) + "_value";
    row += "," + std::to_string(i);
  }
  ImportReport r = Import(header + "\n" + row + "\n", CsvFormat::kWide);
  EXPECT_EQ(r.accepted, 24u);
  EXPECT_EQ(r.rejected, 0u);
  EXPECT_EQ(ReadAllLines(lake_, "raw/date=2025-10-15/machine_id=M1/ch23-").size(), 1u);
}

TEST_F(CsvImportTest, FailuresWithEitherCodeColumn) {
  ImportReport r = Import("machine_id,timestamp_utc,event_code\nM1,2025-10-15T09:00:00Z,FALHA_X\nM1,2025-10-15T09:00:01Z,\n",
                          CsvFormat::kFailures);
  EXPECT_EQ(r.accepted, 1u);
  ASSERT_EQ(r.rejections.size(), 1u);
  EXPECT_EQ(r.rejections[0].reason, Reason::kBadValue);
  EXPECT_EQ(Payloads("raw/date=2025-10-15/machine_id=M1/failure-"),
            std::vector<std::string>{R"("payload":{"machine_id":"M1","timestamp_utc":"2025-10-15T09:00:00Z","event_code":"FALHA_X"}})"});
}

// Excel's "CSV UTF-8" (a BOM) with the header quoted, CRLF: the old reader stripped the BOM
// after parsing, so the quote after it was data and the header did not match.
TEST_F(CsvImportTest, BomBeforeAQuotedHeaderWithCrlf) {
  Status s;
  ImportReport r = Import("\xEF\xBB\xBF\"machine_id\",\"timestamp_utc\",\"sensor\",\"value\"\r\n"
                          "\"M1\",\"2025-10-15T09:00:00Z\",\"vibration\",\"4.2\"\r\n"
                          "M1,2025-10-15T09:00:01Z,vibration,4.3",  // no trailing newline
                          CsvFormat::kLong, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(r.rows, 2u);
  EXPECT_EQ(r.accepted, 2u);
}

TEST_F(CsvImportTest, HeaderProblemsAreUsageErrors) {
  Status s;
  Import("", CsvFormat::kLong, &s);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  Import("id,ts,sensor,value\n", CsvFormat::kLong, &s);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  Import("machine_id,timestamp_utc,pressure_bar\n", CsvFormat::kWide, &s);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("pressure_bar"), std::string::npos);
}

// A field twice: a row would give two readings of one (machine, sensor, time), one of which
// the processor drops. Found by fuzz_csv_import.
TEST_F(CsvImportTest, AWideHeaderWithAFieldTwiceIsRefused) {
  Status s;
  ImportReport r = Import("machine_id,timestamp_utc,vibration_rms,vibration_rms\nPUMP-A00,2025-10-15T09:00:00Z,5.2,6.1\n",
                          CsvFormat::kWide, &s);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'vibration_rms' appears twice (columns 3 and 4)"), std::string::npos) << s.message();
  EXPECT_EQ(r.accepted, 0u);
}

}  // namespace
}  // namespace vigil::ingest
