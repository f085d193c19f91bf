// The alert threshold chosen on held-out rows (model/threshold.h): edge cases first, then
// each goal on small hand-checked sets.
#include "model/threshold.h"

#include <gtest/gtest.h>

namespace vigil::model {
namespace {

ThresholdGoal Goal(const std::string& text) {
  Result<ThresholdGoal> g = ParseThresholdGoal(text);
  EXPECT_TRUE(g) << text;
  return g ? *g : ThresholdGoal{};
}

TEST(ThresholdGoalTest, ParsesTheThreeFormsAndRejectsTheRest) {
  EXPECT_EQ(Goal("f1").kind, ThresholdGoal::Kind::kF1);
  EXPECT_EQ(Goal("recall:0.9").kind, ThresholdGoal::Kind::kRecall);
  EXPECT_DOUBLE_EQ(Goal("recall:0.9").value, 0.9);
  EXPECT_EQ(Goal("recall:1").value, 1);
  EXPECT_EQ(Goal("cost:10").kind, ThresholdGoal::Kind::kCost);
  EXPECT_DOUBLE_EQ(Goal("cost:2.5").value, 2.5);
  for (const char* bad : {"", "F1", "f2", "recall", "recall:", "recall:0", "recall:1.5", "recall:x", "cost:0",
                          "cost:-1", "cost:10x", "precision:0.9", "recall:nan"}) {
    Result<ThresholdGoal> g = ParseThresholdGoal(bad);
    EXPECT_FALSE(g) << bad;
    if (!g) {
      EXPECT_NE(g.error().message().find("model.threshold_goal"), std::string::npos);
    }
  }
}

TEST(ChooseThresholdTest, NoRowsOrOneClassChoosesNothingAndSaysWhy) {
  for (const char* goal : {"f1", "recall:0.9", "cost:10"}) {
    ThresholdChoice empty = ChooseThreshold({}, {}, Goal(goal));
    EXPECT_FALSE(empty.threshold) << goal;
    EXPECT_NE(empty.why.find("no held-out rows"), std::string::npos) << empty.why;
    ThresholdChoice all_pos = ChooseThreshold({0.2, 0.9}, {1, 1}, Goal(goal));
    EXPECT_FALSE(all_pos.threshold) << goal;
    EXPECT_NE(all_pos.why.find("2 positive of 2"), std::string::npos) << all_pos.why;
    ThresholdChoice all_neg = ChooseThreshold({0.2, 0.9, 0.5}, {0, 0, 0}, Goal(goal));
    EXPECT_FALSE(all_neg.threshold) << goal;
    EXPECT_NE(all_neg.why.find("both classes"), std::string::npos) << all_neg.why;
  }
}

TEST(ChooseThresholdTest, BestF1LiesBetweenScoresAndIsExact) {
  // Sorted: 0.9(1) 0.8(1) 0.7(0) 0.6(1) 0.3(0) 0.1(0). Flag the top 2: P 1, R 2/3, F1 0.8;
  // top 4: P 3/4, R 1, F1 6/7 = 0.857 (best); top 3: P 2/3 R 2/3 F1 0.667.
  const std::vector<double> s = {0.1, 0.9, 0.7, 0.3, 0.8, 0.6};
  const std::vector<int> y = {0, 1, 0, 0, 1, 1};
  ThresholdChoice c = ChooseThreshold(s, y, Goal("f1"));
  ASSERT_TRUE(c.threshold);
  EXPECT_DOUBLE_EQ(*c.threshold, (0.6 + 0.3) / 2);
  EXPECT_EQ(c.at.tp, 3);
  EXPECT_EQ(c.at.fp, 1);
  EXPECT_EQ(c.at.fn, 0);
  EXPECT_DOUBLE_EQ(c.at.precision, 0.75);
  EXPECT_DOUBLE_EQ(c.at.recall, 1.0);
  EXPECT_NE(c.why.find("best F1 (0.857)"), std::string::npos) << c.why;
}

TEST(ChooseThresholdTest, TiedScoresAreFlaggedTogether) {
  // 0.7 is shared by a positive and a negative: no threshold separates them.
  const std::vector<double> s = {0.7, 0.7, 0.9, 0.2};
  const std::vector<int> y = {1, 0, 1, 0};
  for (const char* goal : {"f1", "recall:1", "cost:10"}) {
    ThresholdChoice c = ChooseThreshold(s, y, Goal(goal));
    ASSERT_TRUE(c.threshold) << goal;
    const bool first = s[0] >= *c.threshold, second = s[1] >= *c.threshold;
    EXPECT_EQ(first, second) << goal << " splits the tie at " << *c.threshold;
  }
  // recall 1 needs the tie: threshold between 0.7 and 0.2, one false alarm.
  ThresholdChoice r = ChooseThreshold(s, y, Goal("recall:1"));
  EXPECT_DOUBLE_EQ(*r.threshold, 0.45);
  EXPECT_EQ(r.at.fp, 1);
}

TEST(ChooseThresholdTest, EqualF1PrefersTheHigherThreshold) {
  // Top 1: P 1, R 1/2, F1 2/3. Top 3: P 2/3, R 1, F1 0.8. Top 2: P 1/2 R 1/2.
  // Make two thresholds tie: 0.9(1) 0.8(0) 0.7(0) 0.6(1): top1 F1 2/3, top4 F1 2*0.5*1/1.5 = 2/3.
  const std::vector<double> s = {0.9, 0.8, 0.7, 0.6};
  const std::vector<int> y = {1, 0, 0, 1};
  ThresholdChoice c = ChooseThreshold(s, y, Goal("f1"));
  ASSERT_TRUE(c.threshold);
  EXPECT_DOUBLE_EQ(*c.threshold, 0.85);  // the higher of the two
}

TEST(ChooseThresholdTest, RecallGoalTakesTheHighestThresholdReachingIt) {
  // Positives at 0.9, 0.8, 0.5, 0.2; negatives at 0.7, 0.4, 0.1.
  const std::vector<double> s = {0.9, 0.8, 0.7, 0.5, 0.4, 0.2, 0.1};
  const std::vector<int> y = {1, 1, 0, 1, 0, 1, 0};
  ThresholdChoice half = ChooseThreshold(s, y, Goal("recall:0.5"));
  ASSERT_TRUE(half.threshold);
  EXPECT_DOUBLE_EQ(*half.threshold, 0.75);
  EXPECT_DOUBLE_EQ(half.at.recall, 0.5);
  ThresholdChoice most = ChooseThreshold(s, y, Goal("recall:0.75"));
  EXPECT_DOUBLE_EQ(*most.threshold, 0.45);
  EXPECT_EQ(most.at.fp, 1);
  ThresholdChoice all = ChooseThreshold(s, y, Goal("recall:1"));
  EXPECT_DOUBLE_EQ(*all.threshold, 0.15);
  EXPECT_DOUBLE_EQ(all.at.recall, 1.0);
  EXPECT_EQ(all.at.fp, 2);
}

TEST(ChooseThresholdTest, CostGoalWeighsMissesAgainstFalseAlarms) {
  // Positives at 0.9, 0.3; negatives at 0.8, 0.7, 0.6, 0.5.
  const std::vector<double> s = {0.9, 0.8, 0.7, 0.6, 0.5, 0.3};
  const std::vector<int> y = {1, 0, 0, 0, 0, 1};
  // A miss costs 2: flagging only 0.9 costs 2 (one miss); flagging all costs 4 false alarms.
  ThresholdChoice cheap = ChooseThreshold(s, y, Goal("cost:2"));
  ASSERT_TRUE(cheap.threshold);
  EXPECT_DOUBLE_EQ(*cheap.threshold, 0.85);
  EXPECT_EQ(cheap.at.fn, 1);
  EXPECT_EQ(cheap.at.fp, 0);
  // A miss costs 10: catching both (4 false alarms) beats one miss.
  ThresholdChoice dear = ChooseThreshold(s, y, Goal("cost:10"));
  EXPECT_DOUBLE_EQ(*dear.threshold, 0.3);  // the lowest score itself
  EXPECT_EQ(dear.at.fn, 0);
  EXPECT_EQ(dear.at.fp, 4);
  EXPECT_NE(dear.why.find("10 x 0 missed + 4 false alarms"), std::string::npos) << dear.why;
  // A miss costs less than an alarm and the top score is a false alarm: flag nothing.
  ThresholdChoice none = ChooseThreshold({0.9, 0.2}, {0, 1}, Goal("cost:0.5"));
  ASSERT_TRUE(none.threshold);
  EXPECT_GT(*none.threshold, 0.9);
  EXPECT_EQ(none.at.tp + none.at.fp, 0);
}

// Grouped k-fold (issue 19): each fold's model scores its own held-out machines, and the
// threshold is chosen once, on the pooled out-of-fold scores of all folds. Fold A's model
// happens to score low, fold B's high: each fold alone would choose its own threshold
// (0.325, 0.7), and their mean (0.5125) suits neither; the pooled choice is the best single
// threshold over every held-out row, which is what the stored model will be used with.
TEST(ChooseThresholdTest, PooledOutOfFoldScoresChooseOneThresholdForEveryHeldOutRow) {
  const std::vector<double> a = {0.35, 0.4, 0.1, 0.2, 0.3}, b = {0.8, 0.9, 0.45, 0.6};
  const std::vector<int> ya = {1, 1, 0, 0, 0}, yb = {1, 1, 0, 0};
  std::vector<double> pooled = a;
  pooled.insert(pooled.end(), b.begin(), b.end());
  std::vector<int> y = ya;
  y.insert(y.end(), yb.begin(), yb.end());
  const ThresholdChoice fold_a = ChooseThreshold(a, ya, Goal("f1")), fold_b = ChooseThreshold(b, yb, Goal("f1"));
  ASSERT_TRUE(fold_a.threshold && fold_b.threshold);
  EXPECT_DOUBLE_EQ(*fold_a.threshold, 0.325);
  EXPECT_DOUBLE_EQ(*fold_b.threshold, 0.7);
  const ThresholdChoice c = ChooseThreshold(pooled, y, Goal("f1"));
  ASSERT_TRUE(c.threshold);
  EXPECT_DOUBLE_EQ(*c.threshold, 0.325);
  EXPECT_EQ(c.at.tp + c.at.fn, 4);  // every fold's positives count
  EXPECT_EQ(c.at.tp, 4);
  EXPECT_EQ(c.at.fp, 2);            // fold B's negatives above fold A's threshold
  auto f1 = [&](double t) {
    const CurvePoint p = PointAt(pooled, y, t);
    return p.tp ? 2 * p.precision * p.recall / (p.precision + p.recall) : 0.0;
  };
  EXPECT_DOUBLE_EQ(f1(*c.threshold), 0.8);
  EXPECT_GT(f1(*c.threshold), f1(*fold_b.threshold));
  EXPECT_GT(f1(*c.threshold), f1((*fold_a.threshold + *fold_b.threshold) / 2));
}

TEST(CurveAroundTest, TwoGridPointsEachSideAndTheThresholdInOrder) {
  const std::vector<double> s = {0.9, 0.35, 0.1};
  const std::vector<int> y = {1, 1, 0};
  std::vector<CurvePoint> c = CurveAround(s, y, 0.33);
  ASSERT_EQ(c.size(), 5u);
  EXPECT_DOUBLE_EQ(c[0].threshold, 0.2);
  EXPECT_DOUBLE_EQ(c[1].threshold, 0.3);
  EXPECT_DOUBLE_EQ(c[2].threshold, 0.33);
  EXPECT_DOUBLE_EQ(c[3].threshold, 0.4);
  EXPECT_DOUBLE_EQ(c[4].threshold, 0.5);
  EXPECT_DOUBLE_EQ(c[2].recall, 1.0);
  EXPECT_DOUBLE_EQ(c[3].recall, 0.5);
  // At the grid's end only what exists.
  EXPECT_EQ(CurveAround(s, y, 0.01).size(), 3u);
  EXPECT_EQ(CurveAround(s, y, 0.5).size(), 5u);  // 0.5 itself is not repeated
}

}  // namespace
}  // namespace vigil::model
