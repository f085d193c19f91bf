#include "model/metrics.h"

#include <gtest/gtest.h>

namespace vigil::model {
namespace {

TEST(MetricsTest, RocAucPerfectInvertedAndTied) {
  EXPECT_DOUBLE_EQ(RocAuc({0.1, 0.2, 0.8, 0.9}, {0, 0, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(RocAuc({0.9, 0.8, 0.2, 0.1}, {0, 0, 1, 1}), 0.0);
  EXPECT_DOUBLE_EQ(RocAuc({0.5, 0.5, 0.5, 0.5}, {0, 1, 0, 1}), 0.5);  // all tied: one half each
  // One positive tied with one negative, above the other negative: (1 + 0.5) / 2.
  EXPECT_DOUBLE_EQ(RocAuc({0.7, 0.7, 0.1}, {1, 0, 0}), 0.75);
}

TEST(MetricsTest, RocAucWithoutBothClassesIsOneHalf) {
  EXPECT_DOUBLE_EQ(RocAuc({0.1, 0.9}, {1, 1}), 0.5);
  EXPECT_DOUBLE_EQ(RocAuc({}, {}), 0.5);
}

TEST(MetricsTest, PrAucIsAveragePrecision) {
  EXPECT_DOUBLE_EQ(PrAuc({0.9, 0.8, 0.1}, {1, 1, 0}), 1.0);
  // Ranking: 1 (0.9) pos, (0.8) neg, (0.7) pos: AP = 0.5*1 + 0.5*(2/3).
  EXPECT_NEAR(PrAuc({0.9, 0.8, 0.7}, {1, 0, 1}), 0.5 + 1.0 / 3, 1e-12);
  // Ties enter together (scikit-learn): all tied = prevalence.
  EXPECT_DOUBLE_EQ(PrAuc({0.3, 0.3, 0.3, 0.3}, {1, 0, 0, 0}), 0.25);
  EXPECT_DOUBLE_EQ(PrAuc({0.3, 0.2}, {0, 0}), 0.0);
}

TEST(MetricsTest, BrierAndThresholds) {
  EXPECT_DOUBLE_EQ(Brier({1, 0, 0.5}, {1, 0, 1}), 0.25 / 3);
  EXPECT_DOUBLE_EQ(Brier({}, {}), 0);
  PrecisionRecall pr = AtThreshold({0.9, 0.6, 0.4, 0.5}, {1, 0, 1, 0}, 0.5);  // predicted: 0.9, 0.6, 0.5
  EXPECT_DOUBLE_EQ(pr.precision, 1.0 / 3);
  EXPECT_DOUBLE_EQ(pr.recall, 0.5);
  pr = AtThreshold({0.1}, {1}, 0.5);
  EXPECT_DOUBLE_EQ(pr.precision, 0);  // nothing predicted positive
  EXPECT_DOUBLE_EQ(pr.recall, 0);
}

}  // namespace
}  // namespace vigil::model
