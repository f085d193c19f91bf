#include "model/booster.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "test_util.h"

namespace vigil::model {
namespace {

// 10% positives, learnt with scale_pos_weight = 9 (what vigil train does): the raw output
// is biased towards the positives; UndoPositiveWeight gives probabilities again, exactly
// p' / (p' + w (1 - p')), and the file keeps them.
TEST(BoosterTest, UndoPositiveWeightRestoresProbabilities) {
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0, 1);
  std::vector<float> x, y;
  for (int i = 0; i < 4000; ++i) {
    const float a = noise(rng), b = noise(rng);
    x.push_back(a);
    x.push_back(b);
    y.push_back(a + 0.5f * noise(rng) > 1.28f ? 1.f : 0.f);
  }
  double pos = 0;
  for (float v : y) pos += v;
  const double w = (y.size() - pos) / pos;
  Result<Booster> b = Booster::Train(x, 2, y, {},
                                     {{"objective", "binary:logistic"}, {"max_depth", "3"}, {"seed", "1"},
                                      {"scale_pos_weight", std::to_string(w)}, {"base_score", "0.5"}, {"nthread", "1"}},
                                     30);
  ASSERT_TRUE(b) << b.error().message();
  Result<std::vector<float>> raw = b->Predict(x, 2);
  ASSERT_TRUE(raw);
  ASSERT_TRUE(b->UndoPositiveWeight(w).ok());
  Result<std::vector<float>> cal = b->Predict(x, 2);
  ASSERT_TRUE(cal);
  double mean_raw = 0, mean_cal = 0, worst = 0;
  for (size_t i = 0; i < cal->size(); ++i) {
    const double r = (*raw)[i];
    worst = std::max(worst, std::fabs((*cal)[i] - r / (r + w * (1 - r))));
    mean_raw += r / cal->size();
    mean_cal += (*cal)[i] / cal->size();
  }
  EXPECT_LT(worst, 1e-6);
  const double base_rate = pos / y.size();
  EXPECT_NEAR(mean_cal, base_rate, 0.03) << "calibrated mean should be near the base rate " << base_rate;
  EXPECT_GT(mean_raw, base_rate + 0.1) << "the weighted model's raw output is biased upwards";

  testing::TempDir tmp;
  const std::string file = tmp.path() + "/m.json";
  ASSERT_TRUE(b->Save(file).ok());
  Result<Booster> loaded = Booster::Load(file);
  ASSERT_TRUE(loaded);
  Result<std::vector<float>> again = loaded->Predict(x, 2);
  ASSERT_TRUE(again);
  for (size_t i = 0; i < cal->size(); ++i) ASSERT_FLOAT_EQ((*again)[i], (*cal)[i]);
}

}  // namespace
}  // namespace vigil::model
