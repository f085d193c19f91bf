#include "model/threshold.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>

namespace vigil::model {

Result<ThresholdGoal> ParseThresholdGoal(std::string_view text) {
  ThresholdGoal g;
  g.text = std::string(text);
  if (text == "f1") return g;
  const size_t colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("model.threshold_goal: '" + std::string(text) + "' " + why +
                                   " (f1, recall:R with 0 < R <= 1, or cost:C with C > 0)");
  };
  if (colon == std::string_view::npos || (kind != "recall" && kind != "cost")) return bad("is not a goal");
  const std::string num(text.substr(colon + 1));
  char* end = nullptr;
  const double v = num.empty() ? NAN : std::strtod(num.c_str(), &end);
  if (num.empty() || end != num.c_str() + num.size() || !std::isfinite(v)) return bad("needs a number after ':'");
  if (kind == "recall") {
    if (v <= 0 || v > 1) return bad("needs a recall above 0 and at most 1");
    g.kind = ThresholdGoal::Kind::kRecall;
  } else {
    if (v <= 0) return bad("needs a positive cost ratio");
    g.kind = ThresholdGoal::Kind::kCost;
  }
  g.value = v;
  return g;
}

CurvePoint PointAt(const std::vector<double>& score, const std::vector<int>& label, double threshold) {
  CurvePoint p;
  p.threshold = threshold;
  for (size_t i = 0; i < score.size(); ++i) {
    const bool flagged = score[i] >= threshold;
    if (flagged && label[i]) ++p.tp;
    else if (flagged) ++p.fp;
    else if (label[i]) ++p.fn;
  }
  p.precision = p.tp + p.fp > 0 ? static_cast<double>(p.tp) / static_cast<double>(p.tp + p.fp) : 0;
  p.recall = p.tp + p.fn > 0 ? static_cast<double>(p.tp) / static_cast<double>(p.tp + p.fn) : 0;
  return p;
}

ThresholdChoice ChooseThreshold(const std::vector<double>& score, const std::vector<int>& label,
                                const ThresholdGoal& goal) {
  ThresholdChoice c;
  const int64_t positives = std::count(label.begin(), label.end(), 1);
  const int64_t negatives = static_cast<int64_t>(label.size()) - positives;
  if (score.empty()) {
    c.why = "no held-out rows to choose a threshold on";
    return c;
  }
  if (positives == 0 || negatives == 0) {
    c.why = "the held-out rows have " + std::to_string(positives) + " positive of " + std::to_string(label.size()) +
            ": both classes are needed to choose a threshold";
    return c;
  }
  // Walk the distinct scores from the highest down: after each group of tied scores the
  // counts are those of a threshold between this score and the next lower one.
  std::vector<size_t> idx(score.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
  int64_t tp = 0, fp = 0;
  double best_value = 0;
  bool have = false;
  for (size_t i = 0; i < idx.size();) {
    const double s = score[idx[i]];
    size_t j = i;
    for (; j < idx.size() && score[idx[j]] == s; ++j) label[idx[j]] ? ++tp : ++fp;
    const double thr = j < idx.size() ? (s + score[idx[j]]) / 2 : s;
    const int64_t fn = positives - tp;
    const double precision = static_cast<double>(tp) / static_cast<double>(tp + fp);
    const double recall = static_cast<double>(tp) / static_cast<double>(positives);
    double value = 0;  // larger is better
    bool eligible = true;
    switch (goal.kind) {
      case ThresholdGoal::Kind::kF1:
        value = tp ? 2 * precision * recall / (precision + recall) : 0;
        break;
      case ThresholdGoal::Kind::kRecall:
        // The first (highest) threshold reaching the recall is the answer.
        eligible = recall + 1e-12 >= goal.value;
        value = 0;
        break;
      case ThresholdGoal::Kind::kCost:
        value = -(goal.value * static_cast<double>(fn) + static_cast<double>(fp));
        break;
    }
    // Strictly better only: among equals the higher threshold, met first, stays.
    if (eligible && (!have || value > best_value)) {
      have = true;
      best_value = value;
      c.threshold = thr;
    }
    if (have && goal.kind == ThresholdGoal::Kind::kRecall) break;
    i = j;
  }
  // Without a flagged row the cost goal may prefer flagging nothing: a threshold above
  // every score. Compared last so that a tie keeps a threshold that flags something.
  if (goal.kind == ThresholdGoal::Kind::kCost) {
    const double none = -(goal.value * static_cast<double>(positives));
    if (none > best_value) {
      c.threshold = std::nextafter(score[idx.front()], INFINITY);
    }
  }
  c.at = PointAt(score, label, *c.threshold);
  char buf[160];
  switch (goal.kind) {
    case ThresholdGoal::Kind::kF1:
      std::snprintf(buf, sizeof buf, "the best F1 (%.3f)",
                    c.at.tp ? 2 * c.at.precision * c.at.recall / (c.at.precision + c.at.recall) : 0.0);
      break;
    case ThresholdGoal::Kind::kRecall:
      std::snprintf(buf, sizeof buf, "the highest threshold with recall >= %g", goal.value);
      break;
    case ThresholdGoal::Kind::kCost:
      std::snprintf(buf, sizeof buf, "the least cost, %g x %lld missed + %lld false alarms", goal.value,
                    static_cast<long long>(c.at.fn), static_cast<long long>(c.at.fp));
      break;
  }
  c.why = buf;
  return c;
}

std::vector<CurvePoint> CurveAround(const std::vector<double>& score, const std::vector<int>& label,
                                    double threshold) {
  static constexpr double kGrid[] = {0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95};
  std::vector<double> below, above;
  for (double g : kGrid) {
    if (std::fabs(g - threshold) < 1e-9) continue;
    (g < threshold ? below : above).push_back(g);
  }
  std::vector<double> t;
  for (size_t i = below.size() > 2 ? below.size() - 2 : 0; i < below.size(); ++i) t.push_back(below[i]);
  t.push_back(threshold);
  for (size_t i = 0; i < above.size() && i < 2; ++i) t.push_back(above[i]);
  std::vector<CurvePoint> out;
  for (double x : t) out.push_back(PointAt(score, label, x));
  return out;
}

}  // namespace vigil::model
