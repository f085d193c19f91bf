// The HTTP API's parameter and path parsing (src/http/api.*): the machine id of the path
// and the from/to/step/machine/limit query parameters, NUL-separated in the input.
// Properties: every reply is a known status with a body that is valid JSON (a 400 says
// why in "error"); accepted series parameters are in range with at most 10000 points.
#include <simdjson.h>

#include <vector>

#include "fuzz_check.h"
#include "http/api.h"

using namespace vigil;

namespace {
void CheckReply(const http::Reply& r, std::initializer_list<int> statuses) {
  static simdjson::dom::parser parser;
  bool known = false;
  for (int s : statuses) known |= r.first == s;
  FUZZ_CHECK(known, "status %d: %s", r.first, r.second.c_str());
  simdjson::dom::element doc;
  FUZZ_CHECK(!parser.parse(r.second).get(doc), "not JSON: %s", r.second.c_str());
  if (r.first >= 400) {
    std::string_view e;
    FUZZ_CHECK(!doc["error"].get(e) && !e.empty(), "%s", r.second.c_str());
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Config config = [] {
    Config c;
    c.data_dir = "/nonexistent/vigil-fuzz";  // no store: the parameters are judged, nothing read
    return c;
  }();
  std::vector<std::string> p(5);
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  for (size_t i = 0; i < p.size(); ++i) {
    size_t nul = rest.find('\0');
    p[i] = std::string(rest.substr(0, nul));
    rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  }
  const std::string &id = p[0], &from = p[1], &to = p[2], &step = p[3], &limit = p[4];
  Result<http::SeriesParams> sp = http::ParseSeriesParams(from, to, step, fuzz::kNowMs, config.processing.window_ms);
  if (sp) {
    FUZZ_CHECK(0 <= sp->from_ms && sp->from_ms < sp->to_ms && sp->to_ms <= 253'402'300'799'999);
    FUZZ_CHECK(sp->step_ms > 0);
    const int64_t span = sp->to_ms - sp->from_ms;
    FUZZ_CHECK(span / sp->step_ms + (span % sp->step_ms != 0) <= 10'000);
  } else {
    FUZZ_CHECK(!sp.error().message().empty());
  }
  CheckReply(http::SeriesReply(config, id, from, to, step, fuzz::kNowMs), {400, 404});
  CheckReply(http::MachinesReply(config, id, fuzz::kNowMs), {200, 400, 404});
  CheckReply(http::AlertsReply(config, id, limit), {200, 400});
  return 0;
}
