// vigil train: loads the labelled rows, holds some out (model/dataset.h ChooseSplit: by
// time with a purge gap, by machine, or grouped k-fold by machine, as model.split says,
// and why), trains XGBoost with the class imbalance weighted, evaluates it next to two
// baselines on the same held-out rows (the ISO 10816 zone rule and the base rate) and
// against the current model, chooses the alert threshold on those rows for
// model.threshold_goal (model/threshold.h), fits the final model on all label-complete rows
// (model.refit), stores it in the registry with its threshold, and promotes it when it is
// not worse than the current one on these rows (and better than the base rate).
// Grouped k-fold: a model per fold trains on the other folds' machines and scores its own;
// the held-out rows are then every label-complete row, each scored by the fold that held
// its machine out, and everything above (metrics, threshold, RUL RMSE) is computed on these
// pooled out-of-fold predictions; the final model always fits all rows (no single
// evaluated model exists to keep). A current model that trained on rows of this test set cannot
// be compared (it would look better than it is): it is said so, and the base-rate rule
// decides. Between two time splits, a model whose test period starts earlier than the
// current model's never replaces it by itself: it is rejected, saying so.
// model.test_fraction = 0: no evaluation, the model trains on every row and is promoted
// only when there is no current model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <vector>

#include "model/dataset.h"
#include "model/metrics.h"
#include "model/threshold.h"
#include "vigil/clock.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::model {

struct TrainOptions {
  bool shuffle_labels = false;  // a deliberately useless model (tests the promotion rule)
  bool promote = true;          // false: register it as a candidate only
  // > 0: also fit a remaining-useful-life model, its label capped at this (vigil train
  // --rul-cap); overrides model.rul_cap. 0: model.rul_cap decides (vigil run's retraining).
  int64_t rul_cap_ms = 0;
};

struct TrainReport {
  int64_t model_id = 0;
  bool promoted = false;
  std::string decision;  // why (not) promoted
  int64_t data_from_ms = 0, data_to_ms = 0, split_ms = 0;
  SplitKind split = SplitKind::kTime;
  std::string split_why;                    // which split and why (ChooseSplit)
  std::vector<std::string> test_machines;   // split by machine: the held-out machines (k-fold: all)
  // k-fold: every row trains (in the folds that do not hold its machine out) and every
  // label-complete row is held out once (test_rows: the pooled out-of-fold rows).
  size_t train_rows = 0, test_rows = 0, train_positives = 0, test_positives = 0;
  int64_t training_failures = 0;  // failures labelling the training rows (k-fold: the fewest of a fold)
  // Grouped k-fold (SplitKind::kMachineKFold): each fold's machines and its own figures.
  struct FoldResult {
    std::vector<std::string> machines;  // held out by this fold
    size_t train_rows = 0, test_rows = 0, test_positives = 0;
    int64_t training_failures = 0;
    double roc_auc = 0, pr_auc = 0;  // on its held-out rows, by its own model
    size_t rul_test_rows = 0;
    double rul_rmse_h = 0;
  };
  std::vector<FoldResult> folds;
  bool evaluated = true;  // false: model.test_fraction = 0
  // The threshold: chosen on the held-out rows (threshold.threshold), else none.
  ThresholdChoice threshold;
  std::vector<CurvePoint> curve;  // precision/recall around the chosen threshold
  double eval_threshold = 0.5;    // the model's precision/recall below are at this threshold
  size_t final_rows = 0;          // rows the stored model trained on (all, or the training rows)
  size_t censored = 0;            // labelled rows left out: positives of the newest horizon
  bool refit = false;             // the stored model was fit again on all label-complete rows
  Evaluation model, iso_rule, base_rate;  // baselines at 0.5 (ISO: unsatisfactory or worse)
  // false: no vibration sensor in the config, so no ISO 10816 baseline (iso_rule unset).
  bool iso_evaluated = true;
  std::optional<Evaluation> current;  // the model promoted before, on the same test rows
  int64_t current_id = 0;
  std::string current_unusable;  // why the current model could not be compared, if it could not
  std::string file;
  // Remaining useful life (model.rul_cap > 0): a regression model of Dataset::rul_h on the
  // same split's rows whose RUL is known, evaluated on the held-out ones (hours; k-fold:
  // pooled out-of-fold), fit again on all of them with model.refit, saved as RulModelFile(file).
  bool rul = false;
  int64_t rul_cap_ms = 0;  // the cap used: --rul-cap, else model.rul_cap
  size_t rul_train_rows = 0, rul_test_rows = 0, rul_final_rows = 0;
  double rul_rmse_h = 0, rul_phm08 = 0;  // on the held-out rows (when there are any)
  std::string rul_file;
};

// The remaining-useful-life model stored beside a failure model: models/model-<id>-rul.json.
std::string RulModelFile(const std::string& model_file);

// PHM08 score of RUL predictions (Saxena et al. 2008): sum of exp(-d/13) - 1 for early
// predictions (d = predicted - true < 0) and exp(d/10) - 1 for late ones: being late costs
// more. In the units of the values (C-MAPSS: cycles; vigil: hours).
double Phm08Score(const std::vector<double>& predicted, const std::vector<double>& truth);

// Holds the train lock (data_paths::TrainLock) throughout; kUnavailable while another
// training holds it. Rows left "training" by a training that died are marked "failed" first.
Result<TrainReport> Train(const Config& config, Clock& clock, const TrainOptions& options);

// What Train() does first, for `vigil run`'s start and `vigil models`: when no training
// runs (the train lock is free), marks the rows left "training" "failed" and returns how
// many (logged). 0 without a vigil.db or while a training runs.
Result<int64_t> FailUnfinishedTrainings(const Config& config);

std::string ModelsDir(const Config& config);  // <data_dir>/models

}  // namespace vigil::model
