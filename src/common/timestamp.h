// ISO-8601 / RFC 3339 timestamps <-> UTC epoch milliseconds.
//
// Accepted: YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+hh:mm|-hh:mm), 'T' or 't' or ' ' between date
// and time, 'z' for 'Z'. A zone designator is required (a local time is ambiguous).
// Fractions are truncated to milliseconds. Dates are checked (leap years, day of month).
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vigil/status.h"

namespace vigil {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

// Error message says what is wrong ("no zone designator", "day 30 out of range ...").
Result<int64_t> ParseTimestampMs(std::string_view text);

// 2025-10-15T09:00:01.123Z (always 24 characters; years 0..9999).
constexpr size_t kTimestampLen = 24;
void FormatTimestampMs(int64_t ms, char out[kTimestampLen]);
std::string FormatTimestampMs(int64_t ms);

// 2025-10-15 (the UTC date of ms).
constexpr size_t kDateLen = 10;
void FormatDate(int64_t ms, char out[kDateLen]);
std::string FormatDate(int64_t ms);

// Parses YYYY-MM-DD (midnight UTC) or a full timestamp.
Result<int64_t> ParseDateOrTimestampMs(std::string_view text);

}  // namespace vigil
