#include "model/dataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>

namespace vigil::model {
namespace {

constexpr int64_t kH = 7LL * 86'400'000;

TEST(TimeSplitTest, RowsWithinOneHorizonBeforeTheSplitNeverTrain) {
  // One row per hour for 60 days.
  std::vector<int64_t> t;
  for (int64_t h = 0; h < 60 * 24; ++h) t.push_back(h * 3'600'000);
  Split s = TimeSplit(t, 0.25, kH);
  EXPECT_EQ(s.split_ms, t.back() - (t.back() * 25 + 50) / 100);
  ASSERT_FALSE(s.train.empty());
  ASSERT_FALSE(s.test.empty());
  for (size_t i : s.train) EXPECT_LT(t[i] + kH, s.split_ms) << "leak: row " << t[i] << " trains";
  for (size_t i : s.test) EXPECT_GE(t[i], s.split_ms);
  // Every row is in one set or in the purge gap, none in both.
  size_t gap = 0;
  for (int64_t x : t) gap += (x < s.split_ms && x + kH >= s.split_ms);
  EXPECT_EQ(s.train.size() + s.test.size() + gap, t.size());
  EXPECT_EQ(gap, 7u * 24);
}

TEST(TimeSplitTest, EdgeCases) {
  EXPECT_TRUE(TimeSplit({}, 0.25, kH).test.empty());
  Split one = TimeSplit({5}, 0.25, kH);
  EXPECT_EQ(one.test.size(), 1u);  // a single instant is all test period
  EXPECT_TRUE(one.train.empty());
  Split short_range = TimeSplit({0, 1000, 2000}, 0.5, kH);  // range shorter than the horizon
  EXPECT_TRUE(short_range.train.empty());
}

// Five machines, 20 rows each; a machine's rows are negative then positive (a failure at
// its end), except M3's, which are all negative.
struct Fleet {
  std::vector<std::string> machine;
  std::vector<int64_t> t;
  std::vector<int> y;
  std::vector<char> complete;
};
Fleet FiveMachines() {
  Fleet f;
  for (const char* m : {"M1", "M2", "M3", "M4", "M5"}) {
    for (int i = 0; i < 20; ++i) {
      f.machine.push_back(m);
      f.t.push_back(i * 3'600'000);
      f.y.push_back(std::string(m) != "M3" && i >= 15);
      f.complete.push_back(1);
    }
  }
  return f;
}

TEST(MachineSplitTest, DeterministicDisjointMachinesBothClasses) {
  const Fleet f = FiveMachines();
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Split a = MachineSplit(f.machine, f.y, f.complete, 0.25, seed);
    Split b = MachineSplit(f.machine, f.y, f.complete, 0.25, seed);
    ASSERT_EQ(a.kind, SplitKind::kMachine) << a.why;
    EXPECT_EQ(a.test_machines, b.test_machines) << "seed " << seed;
    EXPECT_EQ(a.test, b.test);
    EXPECT_EQ(a.train, b.train);
    ASSERT_EQ(a.test_machines.size(), 1u);  // round(5 * 0.25)
    std::set<std::string> train_m, test_m;
    int test_pos = 0, train_pos = 0;
    for (size_t i : a.train) train_m.insert(f.machine[i]), train_pos += f.y[i];
    for (size_t i : a.test) test_m.insert(f.machine[i]), test_pos += f.y[i];
    for (const std::string& m : test_m) EXPECT_FALSE(train_m.count(m)) << m << " on both sides, seed " << seed;
    EXPECT_EQ(test_m, std::set<std::string>(a.test_machines.begin(), a.test_machines.end()));
    EXPECT_EQ(a.train.size() + a.test.size(), f.t.size());  // every row on one side
    EXPECT_GT(test_pos, 0);
    EXPECT_LT(test_pos, static_cast<int>(a.test.size()));  // both classes
    EXPECT_GT(train_pos, 0);
    EXPECT_NE(a.test_machines[0], "M3");  // all negative: never a test set by itself
  }
  // The seed matters: not every seed holds out the same machine.
  std::set<std::string> chosen;
  for (uint64_t seed = 0; seed < 20; ++seed) chosen.insert(MachineSplit(f.machine, f.y, f.complete, 0.25, seed).test_machines[0]);
  EXPECT_GT(chosen.size(), 1u);
}

// A held-out type keeps a machine in training: with two compressors among ten machines and
// three held out, no seed holds out both compressors (or both motors).
TEST(MachineSplitTest, AHeldOutTypeKeepsAMachineInTraining) {
  const std::vector<std::string> ids = {"PUMP-A01", "FAN-B02",  "COMP-C03", "MOTOR-D04", "PUMP-E05",
                                        "FAN-F06",  "COMP-G07", "MOTOR-H08", "PUMP-I09", "FAN-J10"};
  std::vector<std::string> machine;
  std::vector<int> y;
  std::vector<char> complete;
  for (const std::string& m : ids) {
    for (int i = 0; i < 10; ++i) machine.push_back(m), y.push_back(i >= 7), complete.push_back(1);
  }
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const Split s = MachineSplit(machine, y, complete, 0.3, seed);
    ASSERT_EQ(s.kind, SplitKind::kMachine) << s.why;
    ASSERT_EQ(s.test_machines.size(), 3u);
    std::map<std::string, int> held;
    for (const std::string& m : s.test_machines) ++held[m.substr(0, m.find('-'))];
    EXPECT_LT(held["COMP"], 2) << "seed " << seed;
    EXPECT_LT(held["MOTOR"], 2) << "seed " << seed;
    EXPECT_LT(held["PUMP"], 3) << "seed " << seed;
  }
}

TEST(MachineSplitTest, TestRowsAreLabelCompleteAndShareIsBounded) {
  Fleet f = FiveMachines();
  for (size_t i = 0; i < f.t.size(); ++i) f.complete[i] = f.t[i] < 18 * 3'600'000;  // the newest 2 rows censored
  Split s = MachineSplit(f.machine, f.y, f.complete, 0.5, 7);
  ASSERT_EQ(s.kind, SplitKind::kMachine);
  EXPECT_EQ(s.test_machines.size(), 3u);  // llround(5 * 0.5)
  for (size_t i : s.test) EXPECT_TRUE(f.complete[i]);
  // Never all machines: at least one trains.
  Split most = MachineSplit(f.machine, f.y, f.complete, 0.9, 1);
  EXPECT_EQ(most.test_machines.size(), 4u);
}

TEST(MachineSplitTest, EdgeCasesSayWhy) {
  Split none = MachineSplit({}, {}, {}, 0.25, 1);
  EXPECT_EQ(none.kind, SplitKind::kNone);
  Split one = MachineSplit({"A", "A", "A"}, {0, 1, 0}, {1, 1, 1}, 0.25, 1);
  EXPECT_EQ(one.kind, SplitKind::kNone);
  EXPECT_NE(one.why.find("two machines"), std::string::npos) << one.why;
  // No machine has both classes: no draw fits.
  Split pure = MachineSplit({"A", "A", "B", "B"}, {0, 0, 1, 1}, {1, 1, 1, 1}, 0.5, 1);
  EXPECT_EQ(pure.kind, SplitKind::kNone);
  EXPECT_NE(pure.why.find("no draw"), std::string::npos) << pure.why;
}

// Grouped k-fold by machine (issue 19): the fold assignment.
std::vector<std::string> Ids(int n) {
  std::vector<std::string> ids;
  for (int i = 1; i <= n; ++i) ids.push_back((i < 10 ? "M0" : "M") + std::to_string(i));
  return ids;
}

TEST(AssignFoldsTest, EveryMachineOnceBalancedFailingSpreadDeterministicForASeed) {
  const std::vector<std::string> ids = Ids(23);
  std::set<std::string> failing;
  for (size_t i = 0; i < ids.size(); i += 3) failing.insert(ids[i]);  // 8 failing machines
  for (size_t k : {2u, 3u, 5u, 7u, 23u}) {
    std::set<std::vector<std::vector<std::string>>> by_seed;
    for (uint64_t seed = 0; seed < 10; ++seed) {
      const std::vector<std::vector<std::string>> folds = AssignFolds(ids, failing, k, seed);
      ASSERT_EQ(folds.size(), k);
      std::multiset<std::string> seen;
      size_t lo = ids.size(), hi = 0, lo_fail = ids.size(), hi_fail = 0;
      for (const std::vector<std::string>& f : folds) {
        EXPECT_TRUE(std::is_sorted(f.begin(), f.end()));
        seen.insert(f.begin(), f.end());
        lo = std::min(lo, f.size());
        hi = std::max(hi, f.size());
        const size_t nf = std::count_if(f.begin(), f.end(), [&](const std::string& m) { return failing.count(m) > 0; });
        lo_fail = std::min(lo_fail, nf);
        hi_fail = std::max(hi_fail, nf);
      }
      EXPECT_EQ(seen, std::multiset<std::string>(ids.begin(), ids.end())) << "k " << k << " seed " << seed;
      EXPECT_LE(hi - lo, 1u) << "unbalanced: k " << k << " seed " << seed;
      EXPECT_LE(hi_fail - lo_fail, 1u) << "failing machines bunched: k " << k << " seed " << seed;
      // The same machines and seed, in any order and with repeats: the same folds.
      std::vector<std::string> shuffled(ids.rbegin(), ids.rend());
      shuffled.push_back(ids[4]);
      EXPECT_EQ(AssignFolds(shuffled, failing, k, seed), folds);
      by_seed.insert(folds);
    }
    if (k < ids.size()) {
      EXPECT_GT(by_seed.size(), 1u) << "the seed does not matter, k " << k;
    }
  }
  // More folds than machines: one machine a fold, the rest empty.
  const std::vector<std::vector<std::string>> few = AssignFolds(Ids(3), {}, 5, 1);
  ASSERT_EQ(few.size(), 5u);
  size_t nonempty = 0;
  for (const auto& f : few) nonempty += !f.empty();
  EXPECT_EQ(nonempty, 3u);
}

// Machines of one type (the id's prefix before '-') spread over the folds, so that each fold
// tests machines of types its model trained on: the 10-machine demo fleet (3 pumps, 3 fans,
// 2 compressors, 2 motors) in 5 folds never puts two of a type in a fold, whatever the seed.
TEST(AssignFoldsTest, MachinesOfATypeSpreadOverTheFoldsWhileSizesAndFailingStayBalanced) {
  const std::vector<std::string> fleet = {"PUMP-A01", "FAN-B02",  "COMP-C03", "MOTOR-D04", "PUMP-E05",
                                          "FAN-F06",  "COMP-G07", "MOTOR-H08", "PUMP-I09", "FAN-J10"};
  auto type = [](const std::string& m) { return m.substr(0, m.find('-')); };
  auto doubled = [&](const std::vector<std::vector<std::string>>& folds) {
    size_t pairs = 0;
    for (const std::vector<std::string>& f : folds) {
      std::map<std::string, size_t> n;
      for (const std::string& m : f) pairs += n[type(m)]++;
    }
    return pairs;
  };
  std::set<std::vector<std::vector<std::string>>> by_seed;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const std::set<std::string> all(fleet.begin(), fleet.end());
    const std::vector<std::vector<std::string>> folds = AssignFolds(fleet, all, 5, seed);
    EXPECT_EQ(doubled(folds), 0u) << "seed " << seed;
    for (const std::vector<std::string>& f : folds) EXPECT_EQ(f.size(), 2u) << "seed " << seed;
    by_seed.insert(folds);
  }
  EXPECT_GT(by_seed.size(), 5u) << "the seed hardly matters any more";
  // Failing and healthy machines of a type (they are dealt separately, each class spread
  // over the folds): still no fold holds two of a type, and each fold one failing machine.
  const std::vector<std::string> mixed = {"PUMP-1", "PUMP-2", "FAN-1", "FAN-2", "COMP-1", "COMP-2", "MOTOR-1", "MOTOR-2"};
  const std::set<std::string> failing = {"PUMP-1", "FAN-1", "COMP-1", "MOTOR-1"};
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const std::vector<std::vector<std::string>> folds = AssignFolds(mixed, failing, 4, seed);
    EXPECT_EQ(doubled(folds), 0u) << "seed " << seed;
    for (const std::vector<std::string>& f : folds) {
      EXPECT_EQ(f.size(), 2u);
      EXPECT_EQ(std::count_if(f.begin(), f.end(), [&](const std::string& m) { return failing.count(m) > 0; }), 1)
          << "seed " << seed;
    }
  }
  // Ids without a '-' are types of their own; a pump swaps with one of them.
  const std::vector<std::string> lines = {"PUMP-1", "PUMP-2", "L1", "L2", "L3", "L4"};
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const std::vector<std::vector<std::string>> folds = AssignFolds(lines, {"PUMP-1", "L1", "L2"}, 3, seed);
    EXPECT_EQ(doubled(folds), 0u) << "seed " << seed;
  }
  // More machines of a type than folds: as even as can be (5 pumps in 2 folds: 3 and 2).
  const std::vector<std::string> pumps = {"PUMP-1", "PUMP-2", "PUMP-3", "PUMP-4", "PUMP-5", "FAN-1"};
  const std::vector<std::vector<std::string>> two = AssignFolds(pumps, {"PUMP-1", "PUMP-2"}, 2, 3);
  EXPECT_EQ(doubled(two), 3u + 1u);  // C(3,2) + C(2,2): the least two folds of three can give
}

// A plant: 2,000 machines of 20 types, a third failing, in 7 folds: each type's machines
// as even over the folds as the two classes allow.
TEST(AssignFoldsTest, APlantsTypesSpreadEvenlyOverTheFolds) {
  std::vector<std::string> plant;
  std::set<std::string> failing;
  for (int i = 0; i < 2000; ++i) {
    plant.push_back("T" + std::to_string(i % 20) + "-" + std::to_string(i));
    if (i % 3 == 0) failing.insert(plant.back());
  }
  const std::vector<std::vector<std::string>> folds = AssignFolds(plant, failing, 7, 11);
  for (int t = 0; t < 20; ++t) {
    const std::string prefix = "T" + std::to_string(t) + "-";
    size_t lo = plant.size(), hi = 0;
    for (const std::vector<std::string>& f : folds) {
      const size_t n = std::count_if(f.begin(), f.end(), [&](const std::string& m) { return m.rfind(prefix, 0) == 0; });
      lo = std::min(lo, n);
      hi = std::max(hi, n);
    }
    EXPECT_LE(hi - lo, 2u) << prefix;  // 100 a type: 14-15 a fold, one more or less by class
  }
}

// Ten machines, 20 rows each: M01..M08 fail at their end (rows 15..19 positive), M09 and
// M10 never; each machine's newest 2 rows are censored.
Fleet TenMachines() {
  Fleet f;
  for (const std::string& m : Ids(10)) {
    for (int i = 0; i < 20; ++i) {
      f.machine.push_back(m);
      f.t.push_back(i * 3'600'000);
      f.y.push_back(m < "M09" && i >= 15);
      f.complete.push_back(i < 18);
    }
  }
  return f;
}

TEST(MachineKFoldTest, EachLabelCompleteRowIsTestedOnceByTheFoldThatHoldsItsMachineOut) {
  const Fleet f = TenMachines();
  for (uint64_t seed = 0; seed < 10; ++seed) {
    const Split s = MachineKFold(f.machine, f.y, f.complete, 3, seed);
    ASSERT_EQ(s.kind, SplitKind::kMachineKFold) << s.why;
    ASSERT_EQ(s.folds.size(), 3u);
    EXPECT_EQ(s.test_machines, Ids(10));
    EXPECT_EQ(s.train.size(), f.t.size());  // every row trains (in the other folds)
    std::vector<size_t> pooled;
    for (const Fold& fold : s.folds) {
      const std::set<std::string> held(fold.machines.begin(), fold.machines.end());
      size_t pos = 0, train_pos = 0;
      for (size_t i : fold.test) {
        EXPECT_TRUE(held.count(f.machine[i]));
        EXPECT_TRUE(f.complete[i]);
        pos += f.y[i];
      }
      for (size_t i : fold.train) {
        EXPECT_FALSE(held.count(f.machine[i])) << f.machine[i] << " trains and is held out, seed " << seed;
        train_pos += f.y[i];
      }
      EXPECT_EQ(fold.train.size(), 20 * (10 - held.size()));  // all rows of the others
      EXPECT_GT(pos, 0u);
      EXPECT_LT(pos, fold.test.size());  // both classes in every fold
      EXPECT_GT(train_pos, 0u);
      pooled.insert(pooled.end(), fold.test.begin(), fold.test.end());
    }
    EXPECT_EQ(s.test, pooled);  // the folds' test rows, one fold after another
    std::vector<size_t> complete_rows;
    for (size_t i = 0; i < f.t.size(); ++i) {
      if (f.complete[i]) complete_rows.push_back(i);
    }
    std::sort(pooled.begin(), pooled.end());
    EXPECT_EQ(pooled, complete_rows);  // each label-complete row exactly once
    const Split again = MachineKFold(f.machine, f.y, f.complete, 3, seed);
    ASSERT_EQ(again.folds.size(), 3u);
    for (size_t k = 0; k < 3; ++k) EXPECT_EQ(again.folds[k].machines, s.folds[k].machines);
    EXPECT_EQ(again.test, s.test);
  }
}

TEST(MachineKFoldTest, FewerMachinesOrFailingMachinesThanFoldsMakeFewerFoldsAndSaySo) {
  // 4 of 5 machines fail: 5 folds asked, 4 made (every fold tests a failure).
  const Fleet five = FiveMachines();
  Split s = MachineKFold(five.machine, five.y, five.complete, 5, 1);
  ASSERT_EQ(s.kind, SplitKind::kMachineKFold) << s.why;
  EXPECT_EQ(s.folds.size(), 4u);
  EXPECT_NE(s.why.find("4 folds, not 5"), std::string::npos) << s.why;
  EXPECT_NE(s.why.find("only 4 of the 5 machines have a failure"), std::string::npos) << s.why;
  // Three machines, all failing, 5 folds asked: one machine a fold.
  const std::vector<std::string> m = {"A", "A", "A", "B", "B", "B", "C", "C", "C"};
  const std::vector<int> y = {0, 0, 1, 0, 0, 1, 0, 0, 1};
  const std::vector<char> c(9, 1);
  s = MachineKFold(m, y, c, 5, 1);
  ASSERT_EQ(s.kind, SplitKind::kMachineKFold) << s.why;
  EXPECT_EQ(s.folds.size(), 3u);
  for (const Fold& fold : s.folds) EXPECT_EQ(fold.machines.size(), 1u);
  EXPECT_NE(s.why.find("3 folds, not 5"), std::string::npos) << s.why;
  EXPECT_NE(s.why.find("only 3 machines"), std::string::npos) << s.why;
  // As many as asked: nothing said about it.
  s = MachineKFold(m, y, c, 3, 1);
  EXPECT_EQ(s.why.find("not 3"), std::string::npos) << s.why;
}

TEST(MachineKFoldTest, RefusedWithoutTwoFailingMachinesOrWhenAFoldHasNoNegativeAndSaysWhy) {
  Split s = MachineKFold({"A", "A"}, {0, 1}, {1, 1}, 5, 1);
  EXPECT_EQ(s.kind, SplitKind::kNone);
  EXPECT_NE(s.why.find("two machines or more"), std::string::npos) << s.why;
  s = MachineKFold({"A", "A", "B", "B", "C", "C"}, {0, 1, 0, 0, 0, 0}, {1, 1, 1, 1, 1, 1}, 5, 1);
  EXPECT_EQ(s.kind, SplitKind::kNone);
  EXPECT_NE(s.why.find("1 of the 3 machines has a failure"), std::string::npos) << s.why;
  // A and B only ever positive: whichever fold holds one of them without C tests no negative.
  for (uint64_t seed = 0; seed < 5; ++seed) {
    s = MachineKFold({"A", "A", "B", "B", "C", "C"}, {1, 1, 1, 1, 0, 0}, {1, 1, 1, 1, 1, 1}, 2, seed);
    EXPECT_EQ(s.kind, SplitKind::kNone);
    EXPECT_NE(s.why.find("no negative label-complete row"), std::string::npos) << s.why;
  }
}

TEST(LabelCompleteTest, OnlyPositivesInTheNewestHorizonAreIncomplete) {
  const int64_t h = 10;
  std::vector<char> c = LabelComplete({"A", "A", "A", "B"}, {0, 5, 8, 5}, {1, 1, 0, 1}, {{"A", 15}}, h);
  EXPECT_EQ(c, (std::vector<char>{1, 1, 1, 0}));  // A: 0+10 <= 15, 5+10 <= 15; 0 labels always; B: no watermark, newest row 5
  c = LabelComplete({"A"}, {6}, {1}, {{"A", 15}}, h);
  EXPECT_EQ(c, std::vector<char>{0});
}

TEST(RemainingLifeTest, TimeToTheNextFailureCappedUnknownUntilTheWatermarkProvesTheCap) {
  const std::vector<int64_t> failures = {100, 300};
  const int64_t cap = 50;
  EXPECT_EQ(RemainingLifeMs(90, failures, 400, cap), 10);    // the next failure, 10 away
  EXPECT_EQ(RemainingLifeMs(100, failures, 400, cap), cap);  // at a failure: the next one is 200 away, capped
  EXPECT_EQ(RemainingLifeMs(40, failures, 400, cap), cap);   // 60 away: capped
  EXPECT_EQ(RemainingLifeMs(250, failures, 400, cap), 50);   // exactly the cap away
  EXPECT_EQ(RemainingLifeMs(299, failures, 300, cap), 1);
  // After the last failure: the cap once the watermark is that far past, else unknown.
  EXPECT_EQ(RemainingLifeMs(310, failures, 360, cap), cap);
  EXPECT_EQ(RemainingLifeMs(310, failures, 359, cap), std::nullopt);
  EXPECT_EQ(RemainingLifeMs(5, {}, 20, cap), std::nullopt);
  EXPECT_EQ(RemainingLifeMs(5, {}, 55, cap), cap);
}

TEST(LabelCompleteTest, PositivesBeforeAFailureThatEndsTheDataAreComplete) {
  // Run to failure (C-MAPSS): A's data ends at its failure at 15, so rows 6 and 12 (labelled
  // 1 by it) are final, and no row of A's newest horizon waits for a label.
  const int64_t h = 10;
  std::vector<char> c = LabelComplete({"A", "A", "A"}, {2, 6, 12}, {0, 1, 1}, {{"A", 15}}, h, {{"A", 15}});
  EXPECT_EQ(c, (std::vector<char>{1, 1, 1}));
  // B ran on after its failure at 15 (watermark 18): rows after it may yet be 0 or 1, so
  // its positives of the newest horizon stay censored (the demo's case).
  c = LabelComplete({"B", "B"}, {9, 12}, {1, 1}, {{"B", 18}}, h, {{"B", 15}});
  EXPECT_EQ(c, (std::vector<char>{0, 0}));
  // An older failure, not the newest one, decides nothing here.
  c = LabelComplete({"C"}, {12}, {1}, {{"C", 15}}, h, {{"C", 14}});
  EXPECT_EQ(c, std::vector<char>{0});
}

Dataset FromFleet(const Fleet& f) {
  Dataset d;
  d.machine = f.machine;
  d.t = f.t;
  d.y = f.y;
  d.complete = f.complete;
  return d;
}

TEST(ChooseSplitTest, AutoTakesTheTimeSplitWhenItsTestPeriodHasBothClassesAndTheFleet) {
  // 60 days of hourly rows for 4 machines; failures every 10 days label the day before.
  Dataset d;
  for (int64_t h = 0; h < 60 * 24; ++h) {
    for (const char* m : {"A", "B", "C", "D"}) {
      d.machine.push_back(m);
      d.t.push_back(h * 3'600'000);
      d.y.push_back((h % 240) >= 216);
      d.complete.push_back(1);
    }
  }
  Split s = ChooseSplit(d, "auto", 0.25, kH, 1);
  EXPECT_EQ(s.kind, SplitKind::kTime) << s.why;
  EXPECT_NE(s.why.find("by time (model.split = \"auto\")"), std::string::npos) << s.why;
  EXPECT_NE(s.why.find("4 of 4 machines"), std::string::npos) << s.why;
  Split m = ChooseSplit(d, "machine", 0.25, kH, 1);
  EXPECT_EQ(m.kind, SplitKind::kMachine) << m.why;
  EXPECT_EQ(m.test_machines.size(), 1u);
  // Grouped k-fold only when asked for, with the folds asked for; it says so.
  Split k = ChooseSplit(d, "machine_kfold", 0.25, kH, 1, 2);
  ASSERT_EQ(k.kind, SplitKind::kMachineKFold) << k.why;
  EXPECT_EQ(k.folds.size(), 2u);
  EXPECT_EQ(k.test.size(), d.rows());
  EXPECT_EQ(k.split_ms, 0);  // the first held-out row's time
  EXPECT_NE(k.why.find("by machine, 2-fold (model.split = \"machine_kfold\", model.folds = 2): every one of the 4 machines held out once"),
            std::string::npos) << k.why;
}

// The demo's case: every positive in the newest horizon, where no 0 can be labelled yet.
TEST(ChooseSplitTest, AutoFallsBackToMachinesWhenTheTimeTestPeriodIsOneClass) {
  const Fleet f = FiveMachines();
  Dataset d = FromFleet(f);
  // Rows 15..19 positive; a horizon of 10 h: the time split's test period (newest 25% of
  // 19 h) would leave nothing to train one horizon before it.
  Split s = ChooseSplit(d, "auto", 0.25, 10 * 3'600'000, 1);
  ASSERT_EQ(s.kind, SplitKind::kMachine) << s.why;
  EXPECT_NE(s.why.find("by machine (model.split = \"auto\"): the time split would not do"), std::string::npos) << s.why;
  EXPECT_NE(s.why.find("held out 1 of 5 machines"), std::string::npos) << s.why;
  // "time" is taken as asked, and says what is wrong with it.
  Split t = ChooseSplit(d, "time", 0.25, 10 * 3'600'000, 1);
  EXPECT_EQ(t.kind, SplitKind::kTime);
  EXPECT_NE(t.why.find("does not do"), std::string::npos) << t.why;  // "machine_kfold" that cannot be made is refused with its reason.
  Split one = ChooseSplit(FromFleet(Fleet{{"A", "A", "B", "B"}, {0, 1, 0, 1}, {0, 1, 0, 0}, {1, 1, 1, 1}}), "machine_kfold",
                          0.25, 10 * 3'600'000, 1);
  EXPECT_EQ(one.kind, SplitKind::kNone);
  EXPECT_FALSE(one.usable);
  EXPECT_NE(one.why.find("model.split = \"machine_kfold\""), std::string::npos) << one.why;
  EXPECT_NE(one.why.find("has a failure"), std::string::npos) << one.why;
}

TEST(ChooseSplitTest, TestFractionZeroTrainsOnEveryRow) {
  Dataset d = FromFleet(FiveMachines());
  for (const char* mode : {"auto", "time", "machine", "machine_kfold"}) {
    Split s = ChooseSplit(d, mode, 0, kH, 1);
    EXPECT_EQ(s.kind, SplitKind::kNone);
    EXPECT_EQ(s.train.size(), d.rows());
    EXPECT_TRUE(s.test.empty());
    EXPECT_NE(s.why.find("model.test_fraction = 0"), std::string::npos) << s.why;
  }
}

TEST(TimeSplitTest, OnlyLabelCompleteRowsAreTested) {
  // Hourly rows over 40 days, the newest 7 days censored (positives only could be labelled).
  std::vector<int64_t> t;
  std::vector<char> complete;
  for (int64_t h = 0; h < 40 * 24; ++h) {
    t.push_back(h * 3'600'000);
    complete.push_back(h < 33 * 24);
  }
  Split s = TimeSplit(t, complete, 0.25, kH);
  const int64_t hi = (33 * 24 - 1) * 3'600'000LL;
  EXPECT_EQ(s.split_ms, hi - std::llround(hi * 0.25));
  for (size_t i : s.test) EXPECT_TRUE(complete[i]);
  for (size_t i : s.train) EXPECT_LT(t[i] + kH, s.split_ms);
  EXPECT_FALSE(s.test.empty());
}

TEST(IsoZoneScoreTest, ZoneBoundariesAreInclusiveBelow) {
  EXPECT_EQ(IsoZoneScore(std::nullopt), 0);
  EXPECT_EQ(IsoZoneScore(4.5), 0);
  EXPECT_EQ(IsoZoneScore(4.51), 1.0 / 3);
  EXPECT_EQ(IsoZoneScore(7.1), 1.0 / 3);
  EXPECT_EQ(IsoZoneScore(11.2), 2.0 / 3);
  EXPECT_EQ(IsoZoneScore(11.21), 1);
}

TEST(RobustZTest, MedianAndMad) {
  // median 3, |dev| = {2,1,0,1,2} -> MAD 1
  EXPECT_NEAR(RobustZ(6, {1, 2, 3, 4, 5}), 3 / 1.4826, 1e-12);
  EXPECT_NEAR(RobustZ(0, {1, 2, 3, 4, 5}), -3 / 1.4826, 1e-12);
  // Even count: median 2.5, |dev| = {1.5, .5, .5, 1.5} -> MAD 1.
  EXPECT_NEAR(RobustZ(2.5, {1, 2, 3, 4}), 0, 1e-12);
  EXPECT_NEAR(RobustZ(4.5, {4, 1, 3, 2}), 2 / 1.4826, 1e-12);
  // An outlier in the baseline barely moves it.
  EXPECT_NEAR(RobustZ(6, {1, 2, 3, 4, 5, 1000}), RobustZ(6, {1, 2, 3, 4, 5, 6}), 1.0);
}

TEST(RobustZTest, EmptyAndFlatBaselines) {
  EXPECT_EQ(RobustZ(42, {}), 0);
  EXPECT_EQ(RobustZ(2, {2, 2, 2}), 0);
  EXPECT_EQ(RobustZ(3, {2, 2, 2}), 1e6);
  EXPECT_EQ(RobustZ(1, {2, 2, 2}), -1e6);
}

}  // namespace
}  // namespace vigil::model
