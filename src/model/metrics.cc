#include "model/metrics.h"

#include <cstdio>

#include <algorithm>
#include <numeric>

namespace vigil::model {
namespace {

// Row indices by descending score.
std::vector<size_t> ByScoreDesc(const std::vector<double>& score) {
  std::vector<size_t> idx(score.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
  return idx;
}

}  // namespace

double RocAuc(const std::vector<double>& score, const std::vector<int>& label) {
  // Rank-sum with average ranks for ties.
  std::vector<size_t> idx(score.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return score[a] < score[b]; });
  double pos = 0, neg = 0, rank_sum = 0;
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j < idx.size() && score[idx[j]] == score[idx[i]]) ++j;
    const double avg_rank = (i + 1 + j) / 2.0;  // ranks i+1..j
    for (size_t k = i; k < j; ++k) {
      if (label[idx[k]]) rank_sum += avg_rank, ++pos;
      else ++neg;
    }
    i = j;
  }
  if (pos == 0 || neg == 0) return 0.5;
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

double PrAuc(const std::vector<double>& score, const std::vector<int>& label) {
  const double positives = std::count(label.begin(), label.end(), 1);
  if (positives == 0) return 0;
  const std::vector<size_t> idx = ByScoreDesc(score);
  double tp = 0, fp = 0, ap = 0, last_recall = 0;
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j < idx.size() && score[idx[j]] == score[idx[i]]) {
      label[idx[j]] ? ++tp : ++fp;
      ++j;
    }
    const double recall = tp / positives, precision = tp / (tp + fp);
    ap += (recall - last_recall) * precision;
    last_recall = recall;
    i = j;
  }
  return ap;
}

double Brier(const std::vector<double>& prob, const std::vector<int>& label) {
  if (prob.empty()) return 0;
  double sum = 0;
  for (size_t i = 0; i < prob.size(); ++i) sum += (prob[i] - label[i]) * (prob[i] - label[i]);
  return sum / prob.size();
}

PrecisionRecall AtThreshold(const std::vector<double>& score, const std::vector<int>& label, double threshold) {
  double tp = 0, fp = 0, fn = 0;
  for (size_t i = 0; i < score.size(); ++i) {
    const bool predicted = score[i] >= threshold;
    if (predicted && label[i]) ++tp;
    else if (predicted) ++fp;
    else if (label[i]) ++fn;
  }
  return {tp + fp > 0 ? tp / (tp + fp) : 0, tp + fn > 0 ? tp / (tp + fn) : 0};
}

Evaluation Evaluate(const std::vector<double>& score, const std::vector<int>& label, double threshold) {
  const PrecisionRecall pr = AtThreshold(score, label, threshold);
  return {RocAuc(score, label), PrAuc(score, label), Brier(score, label), pr.precision, pr.recall};
}

std::string EvalJson(const std::optional<Evaluation>& e) {
  if (!e) return "null";
  char buf[256];
  std::snprintf(buf, sizeof buf, R"({"roc_auc":%.6f,"pr_auc":%.6f,"brier":%.6f,"precision":%.6f,"recall":%.6f})",
                e->roc_auc, e->pr_auc, e->brier, e->precision, e->recall);
  return buf;
}

}  // namespace vigil::model
