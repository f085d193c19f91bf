// lake::ParseRawLine (what process and replay read) on any bytes: torn lines, non-UTF-8,
// wrong shapes. Property: a line it accepts is rebuilt by lake::AppendRawLine from the
// parts it returned and reads back to the same parts; a line it refuses has a reason.
#include "common/timestamp.h"
#include "fuzz_check.h"
#include "lake/line_format.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static simdjson::dom::parser parser, parser2;
  std::string_view line(reinterpret_cast<const char*>(data), size);
  lake::RawLine raw;
  std::string why;
  if (!lake::ParseRawLine(line, parser, &raw, &why)) {
    FUZZ_CHECK(!why.empty());
    return 0;
  }
  // The payload is a JSON object with a timestamp_utc the parser understood.
  simdjson::dom::element payload;
  const bool payload_parses = !parser2.parse(raw.payload.data(), raw.payload.size(), true).get(payload);
  // Found here: a key after "payload" ran into the payload (tests/fuzz/corpus/lake_line/
  // trailing_key; unit test ParseRawLineTest.AKeyAfterThePayloadIsNotARawLine).
  FUZZ_CHECK(payload_parses, "payload is not the line's payload: %s", std::string(raw.payload).c_str());
  FUZZ_CHECK(payload.is_object());
  // Received times are written at ms precision: rebuilding from a coarser or finer text
  // changes the bytes, not the parts.
  const std::string topic(raw.topic), body(raw.payload);
  const int64_t event_ms = raw.event_ms, received_ms = raw.received_ms;
  if (received_ms < -62'167'219'200'000 || received_ms > 253'402'300'799'999) return 0;  // years 0..9999
  std::string rebuilt;
  lake::AppendRawLine(received_ms, topic, body, &rebuilt);
  rebuilt.pop_back();
  lake::RawLine again;
  FUZZ_CHECK(lake::ParseRawLine(rebuilt, parser, &again, &why), "%s: %s", why.c_str(), rebuilt.c_str());
  FUZZ_CHECK(again.topic == topic);
  FUZZ_CHECK(again.payload == body);
  FUZZ_CHECK(again.event_ms == event_ms);
  FUZZ_CHECK(again.received_ms == received_ms);
  return 0;
}
