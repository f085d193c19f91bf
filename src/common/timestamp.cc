#include "common/timestamp.h"

#include <cstdio>

namespace vigil {
namespace {

constexpr int64_t kMsPerDay = 86'400'000;

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly n digits at s[pos]; false if any is not a digit.
bool Digits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

Status Bad(std::string_view text, const char* why) {
  std::string t(text.substr(0, 64));
  return Status::InvalidArgument("timestamp '" + t + "': " + why);
}

// Parses the date part at the start of text; returns days since epoch.
Result<int64_t> ParseDatePart(std::string_view s) {
  int64_t y, mo, d;
  if (!Digits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d)) {
    return Bad(s, "expected YYYY-MM-DD");
  }
  if (mo < 1 || mo > 12) return Bad(s, "month out of range");
  if (d < 1 || d > DaysInMonth(y, static_cast<unsigned>(mo))) return Bad(s, "day out of range");
  return DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Result<int64_t> ParseTimestampMs(std::string_view s) {
  Result<int64_t> days = ParseDatePart(s);
  if (!days) return days.error();
  if (s.size() == 10) return Bad(s, "no time of day and no zone designator");
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return Bad(s, "expected 'T' after the date");
  int64_t hh, mm, ss;
  if (!Digits(s, 11, 2, &hh) || s.size() < 19 || s[13] != ':' || !Digits(s, 14, 2, &mm) ||
      s[16] != ':' || !Digits(s, 17, 2, &ss)) {
    return Bad(s, "expected HH:MM:SS");
  }
  if (hh > 23 || mm > 59 || ss > 59) return Bad(s, "time of day out of range");
  size_t pos = 19;
  int64_t frac_ms = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    size_t n = 0;
    int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 3) frac_ms += (s[pos] - '0') * scale, scale /= 10;  // truncate past ms
      ++pos, ++n;
    }
    if (n == 0 || n > 9) return Bad(s, "fraction of a second must have 1 to 9 digits");
  }
  if (pos == s.size()) return Bad(s, "no zone designator (Z or +hh:mm)");
  int64_t offset_min = 0;
  if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
    // UTC
  } else if ((s[pos] == '+' || s[pos] == '-') && pos + 6 == s.size()) {
    int64_t oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || s[pos + 3] != ':' || !Digits(s, pos + 4, 2, &om)) {
      return Bad(s, "zone offset must be +hh:mm or -hh:mm");
    }
    if (oh > 23 || om > 59) return Bad(s, "zone offset out of range");
    offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
  } else {
    return Bad(s, "expected Z or +hh:mm / -hh:mm at the end");
  }
  const int64_t local_ms = *days * kMsPerDay + ((hh * 60 + mm) * 60 + ss) * 1000 + frac_ms;
  return local_ms - offset_min * 60'000;
}

Result<int64_t> ParseDateOrTimestampMs(std::string_view text) {
  if (text.size() == 10) {
    Result<int64_t> days = ParseDatePart(text);
    if (!days) return days.error();
    return *days * kMsPerDay;
  }
  return ParseTimestampMs(text);
}

namespace {
// Floor division so that times before 1970 land on the right day.
void SplitDay(int64_t ms, int64_t* days, int64_t* ms_of_day) {
  *days = ms / kMsPerDay;
  *ms_of_day = ms % kMsPerDay;
  if (*ms_of_day < 0) *ms_of_day += kMsPerDay, --*days;
}
void Put(char* p, int64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) p[i] = static_cast<char>('0' + v % 10), v /= 10;
}
}  // namespace

void FormatDate(int64_t ms, char out[kDateLen]) {
  int64_t days, rest, y;
  unsigned m, d;
  SplitDay(ms, &days, &rest);
  CivilFromDays(days, &y, &m, &d);
  Put(out, y, 4);
  out[4] = '-';
  Put(out + 5, m, 2);
  out[7] = '-';
  Put(out + 8, d, 2);
}

void FormatTimestampMs(int64_t ms, char out[kTimestampLen]) {
  int64_t days, rest;
  SplitDay(ms, &days, &rest);
  FormatDate(ms, out);
  out[10] = 'T';
  Put(out + 11, rest / 3'600'000, 2);
  out[13] = ':';
  Put(out + 14, rest / 60'000 % 60, 2);
  out[16] = ':';
  Put(out + 17, rest / 1000 % 60, 2);
  out[19] = '.';
  Put(out + 20, rest % 1000, 3);
  out[23] = 'Z';
}

std::string FormatTimestampMs(int64_t ms) {
  char buf[kTimestampLen];
  FormatTimestampMs(ms, buf);
  return std::string(buf, kTimestampLen);
}

std::string FormatDate(int64_t ms) {
  char buf[kDateLen];
  FormatDate(ms, buf);
  return std::string(buf, kDateLen);
}

}  // namespace vigil
