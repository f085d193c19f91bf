// The ingest validator on any topic and payload bytes. Property: a rejection has a reason
// and a detail; an accepted message's lake line (lake::AppendRawLine) is one line that
// lake::ParseRawLine reads back to the same topic, payload and times.
#include <variant>

#include "fuzz_check.h"
#include "lake/line_format.h"
#include "ingest/validator.h"
#include "lake/lake_reader.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Config config;
  static ingest::Validator validator(config);
  static simdjson::dom::parser parser;
  auto [topic, payload] = fuzz::SplitAtNul(data, size);
  ingest::Verdict v = validator.Validate(RawMessage{topic, payload, fuzz::kNowMs});
  if (const Rejection* r = std::get_if<Rejection>(&v)) {
    FUZZ_CHECK(!ReasonCode(r->reason).empty());
    FUZZ_CHECK(!r->detail.empty(), "reason %s", std::string(ReasonCode(r->reason)).c_str());
    return 0;
  }
  const AcceptedMessage& a = std::get<AcceptedMessage>(v);
  FUZZ_CHECK(ingest::IsValidMachineId(a.machine_id));
  const std::string base = config.mqtt.topic_prefix + "/" + std::string(a.machine_id);
  FUZZ_CHECK(topic == base + "/telemetry/" + std::string(a.sensor) || topic == base + "/event/failure");
  std::string line;
  lake::AppendRawLine(fuzz::kNowMs, topic, a.minified, &line);
  FUZZ_CHECK(!line.empty() && line.back() == '\n');
  line.pop_back();
  FUZZ_CHECK(line.find('\n') == std::string::npos, "a lake line holds a newline: %s", line.c_str());
  lake::RawLine raw;
  std::string why;
  FUZZ_CHECK(lake::ParseRawLine(line, parser, &raw, &why), "%s: %s", why.c_str(), line.c_str());
  FUZZ_CHECK(raw.topic == topic, "topic %s != %s", std::string(raw.topic).c_str(), std::string(topic).c_str());
  FUZZ_CHECK(raw.payload == a.minified);
  FUZZ_CHECK(raw.event_ms == a.event_ms);
  FUZZ_CHECK(raw.received_ms == fuzz::kNowMs);
  return 0;
}
