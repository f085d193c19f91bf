// The alert threshold, chosen on held-out rows for a goal stated in the config
// (model.threshold_goal), not assumed: `vigil train` chooses it on the rows its evaluation
// held out, stores it with the model (registry params and the model file's attributes) and
// the scorer's warning alerts use it unless model.warning_threshold sets one.
//
// Goals:
//  - "f1":          the best F1 (harmonic mean of precision and recall);
//  - "recall:R":    the highest threshold whose recall is at least R (0 < R <= 1), so the
//                   fewest false alarms that still catch that share of failures;
//  - "cost:C":      the least C * missed + false alarms (a missed failure costs C false
//                   alarms, C > 0).
// A row is flagged when its score >= threshold. Candidate thresholds lie between distinct
// scores (the midpoint of two neighbours, or the lowest score itself), so tied scores are
// always flagged together and the numbers on the held-out rows are exactly those printed.
// Among equally good thresholds the highest wins (fewer alarms). No threshold is chosen
// (threshold empty, `why` says why) without rows or without both classes. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/status.h"

namespace vigil::model {

struct ThresholdGoal {
  enum class Kind { kF1, kRecall, kCost };
  Kind kind = Kind::kF1;
  double value = 0;  // the target recall, or the cost ratio
  std::string text;  // as written: "f1", "recall:0.9", "cost:10"
};
// kInvalidArgument for anything but the three forms above.
Result<ThresholdGoal> ParseThresholdGoal(std::string_view text);

struct CurvePoint {
  double threshold = 0, precision = 0, recall = 0;
  int64_t tp = 0, fp = 0, fn = 0;
};
// The counts at one threshold (precision 0 when nothing is flagged).
CurvePoint PointAt(const std::vector<double>& score, const std::vector<int>& label, double threshold);

struct ThresholdChoice {
  std::optional<double> threshold;  // empty: none could be chosen
  CurvePoint at;                    // the held-out rows at the chosen threshold
  std::string why;                  // what was chosen for which goal, or why nothing was
};
ThresholdChoice ChooseThreshold(const std::vector<double>& score, const std::vector<int>& label,
                                const ThresholdGoal& goal);

// The precision/recall points to print around a threshold: the grid 0.05, 0.1, 0.2, ...,
// 0.9, 0.95 points nearest below and above it (two each) and the threshold itself, in
// ascending order of threshold.
std::vector<CurvePoint> CurveAround(const std::vector<double>& score, const std::vector<int>& label,
                                    double threshold);

}  // namespace vigil::model
