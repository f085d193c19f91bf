#include "common/huge_pages.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace vigil {
namespace {

using BigVector = std::vector<int64_t, HugePageAllocator<int64_t>>;

TEST(HugePagesTest, ABufferOfAHugePageOrMoreIsAlignedToOne) {
  BigVector v;
  v.reserve(kHugePage / sizeof(int64_t) * 3 + 1);  // 6 MiB and a bit: rounded up to 8
  EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data()) % kHugePage, 0u);
}

TEST(HugePagesTest, ValuesSurviveGrowthAcrossTheHugePageLine) {
  BigVector v;
  const int64_t n = static_cast<int64_t>(kHugePage / sizeof(int64_t)) * 2 + 7;
  for (int64_t i = 0; i < n; ++i) v.push_back(i * 3);  // small buffers first, then huge ones
  ASSERT_EQ(static_cast<int64_t>(v.size()), n);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(v[static_cast<size_t>(i)], i * 3);
  BigVector small(10, 5);  // below a huge page: operator new, freed as such
  EXPECT_EQ(small[9], 5);
}

}  // namespace
}  // namespace vigil
