// CsvImporter: historical data from CSV files into the lake, validated exactly like MQTT
// messages (contract §4, `vigil import`).
//
// Formats (a header row is required):
//   long:     machine_id,timestamp_utc,sensor,value          (sensor = the topic level name)
//   wide:     machine_id,timestamp_utc,<field>,<field>,...   (columns named by the sensors'
//             payload fields; an empty cell is no reading)
//   failures: machine_id,timestamp_utc,codigo_evento          (or event_code)
// Each reading becomes the contract's topic and payload and goes through IngestSink, so it
// gets the same reason codes and lands in the same lake (or quarantine) as a live message;
// the skew rule uses the import time. Files are streamed: memory does not grow with size.
// Records are read by csv::Reader (common/csv.h), the reader of every CSV command.
//
// Not thread-safe: one importer per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <string>
#include <vector>

#include "ingest/ingest_sink.h"
#include "vigil/clock.h"
#include "vigil/config.h"

namespace vigil::ingest {

enum class CsvFormat { kLong, kWide, kFailures };
Result<CsvFormat> ParseCsvFormat(std::string_view name);

struct RejectedRow {
  std::string file;
  int64_t line = 0;  // 1-based physical line where the record starts
  std::string column;  // wide: the column of the rejected cell
  Reason reason = Reason::kBadJson;
  std::string detail;
};

struct ImportReport {
  uint64_t rows = 0;      // data records read
  uint64_t messages = 0;  // readings/events built (wide: one per non-empty cell)
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  std::vector<RejectedRow> rejections;  // the first kMaxListed
  static constexpr size_t kMaxListed = 10'000;
};

// The columns of an import file: its header checked against the format and the sensors.
struct CsvLayout {
  CsvFormat format = CsvFormat::kLong;
  size_t width = 0;                                            // fields per record
  std::vector<std::pair<size_t, const SensorSpec*>> wide;      // wide: column -> sensor
  std::string event_key;                                       // failures: codigo_evento or event_code
};
// Errors (kInvalidArgument) say what the header lacks; a BOM is already gone (csv::Reader).
Result<CsvLayout> ParseCsvHeader(const Config& config, CsvFormat format, std::vector<std::string> header);

// One reading or event of a data record, as the contract's topic and payload.
struct CsvMessage {
  std::string topic, payload;
  std::string column;  // wide: the cell's column
};
// The messages of one data record (wide: one per non-empty cell). False with *why when the
// record has the wrong number of fields.
bool CsvRowMessages(const Config& config, const CsvLayout& layout, const std::vector<std::string>& row,
                    std::vector<CsvMessage>* out, std::string* why);

class CsvImporter {
 public:
  CsvImporter(const Config& config, IngestSink& sink, Clock& clock);

  // Imports one file. Errors: the file cannot be read, the header does not match the
  // format (kInvalidArgument), or the lake cannot be written (kIoError). Rejected rows are
  // not errors: they are counted in *report and quarantined.
  // progress(bytes_read, bytes_total) is called now and then.
  Status ImportFile(const std::string& path, CsvFormat format, ImportReport* report,
                    const std::function<void(int64_t, int64_t)>& progress = {});

 private:
  Status Emit(const std::string& topic, const std::string& payload, const std::string& file,
              int64_t line, const std::string& column, ImportReport* report);

  const Config& config_;
  IngestSink& sink_;
  Clock& clock_;
};

}  // namespace vigil::ingest
