#include "lake/disk_guard.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace vigil::lake {
namespace {

constexpr uint64_t kMiB = 1 << 20;

struct FakeDisk {
  Result<uint64_t> free = uint64_t{0};
  DiskGuard::FreeFn fn() {
    return [this](const std::string&) { return free; };
  }
};

TEST(DiskGuardTest, StopsBelowTheThresholdAndResumesOnlyAboveTheMargin) {
  FakeDisk d;
  d.free = 200 * kMiB;
  DiskGuard g("/data", 100 * kMiB, d.fn());
  EXPECT_TRUE(g.Check().ok()) << "before the first measurement nothing is known to be low";
  g.Refresh();
  EXPECT_FALSE(g.low());
  EXPECT_EQ(g.free_bytes(), 200 * kMiB);

  d.free = 100 * kMiB;  // exactly at the threshold: still fine
  g.Refresh();
  EXPECT_FALSE(g.low());
  d.free = 100 * kMiB - 1;
  g.Refresh();
  EXPECT_TRUE(g.low());
  Status s = g.Check();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("disk low"), std::string::npos) << s.message();
  EXPECT_EQ(g.low_episodes(), 1u);

  // Hysteresis: back at the threshold, or inside the 10% margin, is not enough.
  d.free = 105 * kMiB;
  g.Refresh();
  EXPECT_TRUE(g.low());
  d.free = 110 * kMiB;  // threshold + 10%
  g.Refresh();
  EXPECT_FALSE(g.low());
  EXPECT_TRUE(g.Check().ok());

  d.free = 50 * kMiB;
  g.Refresh();
  EXPECT_EQ(g.low_episodes(), 2u);
}

TEST(DiskGuardTest, SmallThresholdsResumeWithAtLeastOneMiBMargin) {
  FakeDisk d;
  d.free = uint64_t{0};
  DiskGuard g("/data", 1000, d.fn());
  g.Refresh();
  EXPECT_TRUE(g.low());
  d.free = uint64_t{1000 + 100};  // 10% would be 100 B: too small a margin to stop flapping
  g.Refresh();
  EXPECT_TRUE(g.low());
  d.free = uint64_t{1000} + kMiB;
  g.Refresh();
  EXPECT_FALSE(g.low());
}

TEST(DiskGuardTest, ZeroThresholdNeverStops) {
  FakeDisk d;
  d.free = uint64_t{0};
  DiskGuard g("/data", 0, d.fn());
  g.Refresh();
  EXPECT_FALSE(g.low());
  EXPECT_TRUE(g.Check().ok());
  EXPECT_EQ(g.free_bytes(), 0u);
}

TEST(DiskGuardTest, AFailedMeasurementKeepsTheLastState) {
  FakeDisk d;
  d.free = uint64_t{10};
  DiskGuard g("/data", 100 * kMiB, d.fn());
  g.Refresh();
  ASSERT_TRUE(g.low());
  d.free = Status::IoError("statvfs: gone");
  g.Refresh();
  EXPECT_TRUE(g.low());
  EXPECT_EQ(g.free_bytes(), 10u);
}

TEST(DiskGuardTest, RealFilesystemHasFreeSpace) {
  vigil::testing::TempDir tmp;
  Result<uint64_t> f = FreeBytes(tmp.path());
  ASSERT_TRUE(f.has_value()) << f.error().message();
  EXPECT_GT(*f, 0u);
  EXPECT_FALSE(FreeBytes(tmp.path() + "/missing").has_value());
}

}  // namespace
}  // namespace vigil::lake
