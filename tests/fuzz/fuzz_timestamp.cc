// Timestamp parsing (common/timestamp.h). Properties: a parsed time formats and parses
// back to the same millisecond; any millisecond of years 0..9999 round-trips through the
// formatter; a date parses to its midnight.
#include <cstring>

#include "common/timestamp.h"
#include "fuzz_check.h"

using namespace vigil;

namespace {
constexpr int64_t kMinMs = -62'167'219'200'000;  // 0000-01-01
constexpr int64_t kMaxMs = 253'402'300'799'999;  // 9999-12-31T23:59:59.999
constexpr int64_t kDayMs = 86'400'000;

void RoundTrip(int64_t ms) {
  const std::string text = FormatTimestampMs(ms);
  FUZZ_CHECK(text.size() == kTimestampLen, "%s", text.c_str());
  Result<int64_t> back = ParseTimestampMs(text);
  FUZZ_CHECK(back && *back == ms, "%lld -> %s", static_cast<long long>(ms), text.c_str());
  const std::string date = FormatDate(ms);
  Result<int64_t> midnight = ParseDateOrTimestampMs(date);
  const int64_t floor_day = (ms >= 0 ? ms / kDayMs : (ms - kDayMs + 1) / kDayMs) * kDayMs;
  FUZZ_CHECK(midnight && *midnight == floor_day, "%lld -> %s", static_cast<long long>(ms), date.c_str());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<int64_t> ms = ParseTimestampMs(text);
  if (ms) {
    if (*ms >= kMinMs && *ms <= kMaxMs) RoundTrip(*ms);
  } else {
    FUZZ_CHECK(!ms.error().message().empty());
  }
  Result<int64_t> d = ParseDateOrTimestampMs(text);
  if (d && text.size() == kDateLen) FUZZ_CHECK(*d % kDayMs == 0);
  if (size >= 8) {
    int64_t raw;
    std::memcpy(&raw, data, 8);
    const uint64_t span = static_cast<uint64_t>(kMaxMs - kMinMs) + 1;
    RoundTrip(kMinMs + static_cast<int64_t>(static_cast<uint64_t>(raw) % span));
  }
  return 0;
}
