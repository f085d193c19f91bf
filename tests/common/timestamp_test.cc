#include "common/timestamp.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

int64_t Ms(std::string_view s) {
  Result<int64_t> r = ParseTimestampMs(s);
  EXPECT_TRUE(r.has_value()) << s << ": " << (r ? "" : r.error().message());
  return r ? *r : -1;
}

bool Fails(std::string_view s) { return !ParseTimestampMs(s).has_value(); }

TEST(TimestampTest, ContractExamples) {
  EXPECT_EQ(Ms("2025-10-15T09:00:01.123Z"), 1760518801123);
  EXPECT_EQ(Ms("2025-10-15T09:30:00Z"), 1760520600000);
  EXPECT_EQ(Ms("1970-01-01T00:00:00Z"), 0);
}

TEST(TimestampTest, FractionsOfOneToNineDigitsAreTruncatedToMs) {
  EXPECT_EQ(Ms("2025-10-15T09:00:01.1Z") % 1000, 100);
  EXPECT_EQ(Ms("2025-10-15T09:00:01.12Z") % 1000, 120);
  EXPECT_EQ(Ms("2025-10-15T09:00:01.123Z") % 1000, 123);
  EXPECT_EQ(Ms("2025-10-15T09:00:01.1239Z") % 1000, 123);
  EXPECT_EQ(Ms("2025-10-15T09:00:01.999999999Z") % 1000, 999);  // truncated, never rounded up
  EXPECT_TRUE(Fails("2025-10-15T09:00:01.1234567891Z"));        // 10 digits
  EXPECT_TRUE(Fails("2025-10-15T09:00:01.Z"));                  // no digits
}

TEST(TimestampTest, OffsetsAreConvertedToUtc) {
  EXPECT_EQ(Ms("2025-10-15T11:00:01.123+02:00"), Ms("2025-10-15T09:00:01.123Z"));
  EXPECT_EQ(Ms("2025-10-15T04:30:01.123-04:30"), Ms("2025-10-15T09:00:01.123Z"));
  EXPECT_EQ(Ms("2025-10-15T00:30:00+01:00"), Ms("2025-10-14T23:30:00Z"));  // crosses a day
  EXPECT_EQ(Ms("2025-10-15T09:00:00+00:00"), Ms("2025-10-15T09:00:00Z"));
  EXPECT_EQ(Ms("2025-10-15t09:00:00z"), Ms("2025-10-15T09:00:00Z"));
  EXPECT_TRUE(Fails("2025-10-15T09:00:00+0200"));
  EXPECT_TRUE(Fails("2025-10-15T09:00:00+24:00"));
  EXPECT_TRUE(Fails("2025-10-15T09:00:00+02:60"));
}

TEST(TimestampTest, NoZoneIsRejected) {
  EXPECT_TRUE(Fails("2025-10-15T09:00:01.123"));
  EXPECT_TRUE(Fails("2025-10-15T09:00:01"));
  EXPECT_TRUE(Fails("2025-10-15"));
  Result<int64_t> r = ParseTimestampMs("2025-10-15T09:00:01");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("zone"), std::string::npos);
}

TEST(TimestampTest, OutOfRangeFieldsAndDates) {
  EXPECT_TRUE(Fails("2025-13-01T00:00:00Z"));
  EXPECT_TRUE(Fails("2025-00-01T00:00:00Z"));
  EXPECT_TRUE(Fails("2025-04-31T00:00:00Z"));
  EXPECT_TRUE(Fails("2025-01-00T00:00:00Z"));
  EXPECT_TRUE(Fails("2025-01-01T24:00:00Z"));
  EXPECT_TRUE(Fails("2025-01-01T23:60:00Z"));
  EXPECT_TRUE(Fails("2025-01-01T23:59:60Z"));  // leap seconds are not representable in ms epoch
}

TEST(TimestampTest, LeapYears) {
  EXPECT_EQ(Ms("2024-02-29T00:00:00Z"), Ms("2024-02-28T00:00:00Z") + 86'400'000);
  EXPECT_EQ(Ms("2000-02-29T00:00:00Z"), 951782400000);  // divisible by 400: leap
  EXPECT_TRUE(Fails("2025-02-29T00:00:00Z"));
  EXPECT_TRUE(Fails("2100-02-29T00:00:00Z"));  // divisible by 100, not 400
  EXPECT_EQ(Ms("2025-03-01T00:00:00Z") - Ms("2025-02-28T00:00:00Z"), 86'400'000);
}

TEST(TimestampTest, Garbage) {
  for (const char* s : {"", "now", "2025-10-15 ", "2025/10/15T09:00:00Z", "2025-10-15T9:00:00Z",
                        "2025-10-15T09:00:00ZZ", "2025-10-15T09:00:00 Z", "+2025-10-15T09:00:00Z",
                        "2025-10-15T09:00:00.12a3Z", "2025-1a-15T09:00:00Z"}) {
    EXPECT_TRUE(Fails(s)) << s;
  }
}

TEST(TimestampTest, FormatRoundTrips) {
  EXPECT_EQ(FormatTimestampMs(1760518801123), "2025-10-15T09:00:01.123Z");
  EXPECT_EQ(FormatTimestampMs(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatDate(1760518801123), "2025-10-15");
  EXPECT_EQ(FormatDate(-1), "1969-12-31");
  for (int64_t ms : {int64_t{951782400000}, int64_t{1709164800123}, int64_t{4102444799999}}) {
    EXPECT_EQ(Ms(FormatTimestampMs(ms)), ms);
  }
}

TEST(TimestampTest, DateOrTimestamp) {
  EXPECT_EQ(*ParseDateOrTimestampMs("2025-10-15"), Ms("2025-10-15T00:00:00Z"));
  EXPECT_EQ(*ParseDateOrTimestampMs("2025-10-15T01:00:00Z"), Ms("2025-10-15T01:00:00Z"));
  EXPECT_FALSE(ParseDateOrTimestampMs("2025-02-30").has_value());
}

}  // namespace
}  // namespace vigil
