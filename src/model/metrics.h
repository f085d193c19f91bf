// Evaluation of a probabilistic classifier on labelled rows: the numbers `vigil train`
// prints and stores, for the model and for the baselines, on the same test rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vigil::model {

// Area under the ROC curve; tied scores count one half (the Mann-Whitney statistic).
// 0.5 when either class is absent.
double RocAuc(const std::vector<double>& score, const std::vector<int>& label);

// Average precision (area under the precision-recall curve, step-wise, as scikit-learn's
// average_precision_score): tied scores enter together. 0 when there is no positive.
double PrAuc(const std::vector<double>& score, const std::vector<int>& label);

// Mean squared difference between probability and label. 0 for no rows.
double Brier(const std::vector<double>& prob, const std::vector<int>& label);

struct PrecisionRecall {
  double precision = 0, recall = 0;  // precision 0 when nothing is predicted positive
};
// Predicted positive: score >= threshold.
PrecisionRecall AtThreshold(const std::vector<double>& score, const std::vector<int>& label, double threshold);

struct Evaluation {
  double roc_auc = 0, pr_auc = 0, brier = 0, precision = 0, recall = 0;
};
Evaluation Evaluate(const std::vector<double>& score, const std::vector<int>& label, double threshold);
// {"roc_auc":...,"recall":...} (6 decimals), as the registry's metrics store it; null when empty.
std::string EvalJson(const std::optional<Evaluation>& e);

}  // namespace vigil::model
