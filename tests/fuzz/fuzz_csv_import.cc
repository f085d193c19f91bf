// The CSV readers of `vigil import` (long, wide, failures): the first byte picks the
// format, the rest is the file. Property: a header is accepted or refused with a reason; a
// data record of the wrong width is refused with a reason and a line number; every
// message of a record is either rejected by the validator with a reason, or accepted with
// the record's values (machine id, time, sensor and number, or event code).
#include <cstdlib>
#include <variant>

#include "common/csv.h"
#include "common/timestamp.h"
#include "fuzz_check.h"
#include "ingest/csv_import.h"
#include "ingest/validator.h"

using namespace vigil;

namespace {
std::string_view Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Config config;
  static ingest::Validator validator(config);
  if (size == 0) return 0;
  const auto format = static_cast<ingest::CsvFormat>(data[0] % 3);
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  csv::Reader reader(text);
  std::vector<std::string> row;
  int64_t line = 0;
  if (!reader.Next(&row, &line)) return 0;
  Result<ingest::CsvLayout> layout = ingest::ParseCsvHeader(config, format, row);
  if (!layout) {
    FUZZ_CHECK(!layout.error().message().empty());
    return 0;
  }
  std::vector<ingest::CsvMessage> messages;
  std::string why;
  int64_t last_line = line;
  while (reader.Next(&row, &line)) {
    FUZZ_CHECK(line > last_line);
    last_line = line;
    if (!ingest::CsvRowMessages(config, *layout, row, &messages, &why)) {
      FUZZ_CHECK(row.size() != layout->width && !why.empty());
      continue;
    }
    FUZZ_CHECK(row.size() == layout->width);
    size_t non_empty = 0;
    for (size_t i = 2; i < row.size(); ++i) non_empty += !Trimmed(row[i]).empty();
    if (format == ingest::CsvFormat::kWide) FUZZ_CHECK(messages.size() == non_empty);
    else FUZZ_CHECK(messages.size() == 1);
    for (const ingest::CsvMessage& m : messages) {
      ingest::Verdict v = validator.Validate(RawMessage{m.topic, m.payload, fuzz::kNowMs});
      if (const Rejection* r = std::get_if<Rejection>(&v)) {
        FUZZ_CHECK(!r->detail.empty());
        continue;
      }
      const AcceptedMessage& a = std::get<AcceptedMessage>(v);
      FUZZ_CHECK(a.machine_id == Trimmed(row[0]), "%s", m.payload.c_str());
      Result<int64_t> ts = ParseTimestampMs(Trimmed(row[1]));
      FUZZ_CHECK(ts && *ts == a.event_ms, "%s", m.payload.c_str());
      std::string_view cell;
      if (format == ingest::CsvFormat::kLong) {
        FUZZ_CHECK(a.sensor == Trimmed(row[2]));
        cell = Trimmed(row[3]);
      } else if (format == ingest::CsvFormat::kWide) {
        size_t col = 0;
        for (auto [c, s] : layout->wide) {
          if (s->field == m.column) col = c;
        }
        FUZZ_CHECK(col >= 2);
        cell = Trimmed(row[col]);
      } else {
        FUZZ_CHECK(a.kind == MessageKind::kFailure && a.event_code == Trimmed(row[2]), "%s", m.payload.c_str());
        continue;
      }
      FUZZ_CHECK(a.kind == MessageKind::kTelemetry);
      const std::string number(cell);
      char* end = nullptr;
      const double d = std::strtod(number.c_str(), &end);
      FUZZ_CHECK(end == number.c_str() + number.size() && d == a.value, "cell '%s' accepted as %.17g",
                 number.c_str(), a.value);
    }
  }
  return 0;
}
