#include "model/trainer.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include "common/data_paths.h"
#include "common/dir_lock.h"
#include "common/json_text.h"
#include "common/logging.h"
#include "common/timestamp.h"
#include "model/booster.h"
#include "model/dataset.h"
#include "model/metrics.h"
#include "model/registry.h"

namespace vigil::model {
namespace {

Result<int64_t> FailUnfinished(Db& db) {
  Result<int64_t> n = store::FailUnfinishedModels(db);
  if (n && *n > 0) {
    GetLogger("model")->warn("{} model(s) left 'training' by a training that did not finish are now 'failed' (vigil models)", *n);
  }
  return n;
}

}  // namespace

Result<int64_t> FailUnfinishedTrainings(const Config& config) {
  const std::string db_path = data_paths::Database(config.data_dir);
  if (!std::filesystem::exists(db_path)) return int64_t{0};
  Result<DirLock> lock = DirLock::Acquire(data_paths::TrainLock(config.data_dir), "vigil train");
  if (!lock) return int64_t{0};  // a training runs: its row is not unfinished
  Result<Db> db = Db::Open(db_path);
  if (!db) return db.error();
  return FailUnfinished(*db);
}

std::string ModelsDir(const Config& config) { return data_paths::ModelsDir(config.data_dir); }

Result<TrainReport> Train(const Config& config, Clock& clock, const TrainOptions& options) {
  const ModelConfig& mc = config.model;
  Result<ThresholdGoal> goal = ParseThresholdGoal(mc.threshold_goal);
  if (!goal) return goal.error();
  const int64_t horizon = config.processing.label_horizon_ms;
  const std::string db_path = data_paths::Database(config.data_dir);
  Result<Db> db = Db::Open(db_path);
  if (!db) return db.error();
  Result<DirLock> lock = DirLock::Acquire(data_paths::TrainLock(config.data_dir), "vigil train");
  if (!lock) return lock.error();
  if (Result<int64_t> failed = FailUnfinished(*db); !failed) return failed.error();
  // --rul-cap (TrainOptions) wins over model.rul_cap; vigil run's retraining has only the key.
  const int64_t rul_cap = options.rul_cap_ms > 0 ? options.rul_cap_ms : mc.rul_cap_ms;
  Result<Dataset> data = LoadLabelled(db_path, config, mc.stride_ms, INT64_MIN, INT64_MAX, rul_cap);
  if (!data) return data.error();
  const Dataset& d = *data;
  if (d.rows() == 0) {
    return Status::InvalidArgument("no label-complete rows in " + db_path + " yet (" + std::to_string(d.censored) +
                                   " positive rows wait for their negatives): a label is complete once a machine's data "
                                   "reaches one horizon past its window");
  }
  TrainReport r;
  r.rul_cap_ms = rul_cap;
  r.iso_evaluated = config.FindSensor("vibration") != nullptr;
  r.censored = d.censored;
  const Split split =
      ChooseSplit(d, mc.split, mc.test_fraction, horizon, static_cast<uint64_t>(mc.seed), mc.folds);
  r.split = split.kind;
  r.split_why = split.why;
  r.test_machines = split.test_machines;
  r.evaluated = split.kind != SplitKind::kNone;
  const bool kfold = split.kind == SplitKind::kMachineKFold;
  auto too_few = [&](int64_t failures, size_t rows, size_t positives) {
    return Status::InvalidArgument(
        "too few labelled failures to train: " + std::to_string(failures) + " failure(s) label the " +
        std::to_string(rows) + " training rows (" + std::to_string(positives) + " positive), model.min_failures = " +
        std::to_string(mc.min_failures) + ". Let vigil collect more history, or lower model.min_failures.");
  };
  if (mc.test_fraction > 0 && (!r.evaluated || !split.usable)) {
    // Too few failures in all the data says more than "no split".
    Result<int64_t> all = store::CountFailures(*db, d.t.front(), d.t.back() + horizon + 1);
    if (!all) return all.error();
    if (*all < mc.min_failures) {
      return too_few(*all, d.rows(), static_cast<size_t>(std::count(d.y.begin(), d.y.end(), 1)));
    }
    return Status::InvalidArgument("no split to evaluate a model on: " + split.why +
                                   ". Let vigil collect more history, or set model.test_fraction = 0 (no evaluation).");
  }
  r.data_from_ms = d.t.front();
  r.data_to_ms = d.t.back();
  r.split_ms = split.split_ms;
  r.train_rows = split.train.size();
  r.test_rows = split.test.size();
  for (size_t i : split.train) r.train_positives += d.y[i];
  for (size_t i : split.test) r.test_positives += d.y[i];
  // What the evaluation trains and tests: k-fold's folds, or the one split as a single fold.
  const std::vector<Fold> folds = kfold ? split.folds : std::vector<Fold>{Fold{split.test_machines, split.train, split.test}};
  // Failures that label each fold's training rows: before the test period (by time), or of
  // its training machines (by machine); min_failures holds for the fold with the fewest.
  r.training_failures = INT64_MAX;
  size_t fewest = 0;
  std::vector<int64_t> fold_failures;
  for (size_t k = 0; k < folds.size(); ++k) {
    std::vector<std::string> train_machines;  // empty: every machine
    if (split.kind == SplitKind::kMachine || kfold) {
      for (size_t i : folds[k].train) {
        if (train_machines.empty() || train_machines.back() != d.machine[i]) train_machines.push_back(d.machine[i]);
      }
      std::sort(train_machines.begin(), train_machines.end());
      train_machines.erase(std::unique(train_machines.begin(), train_machines.end()), train_machines.end());
    }
    const int64_t failures_until = split.kind == SplitKind::kTime ? split.split_ms : d.t.back() + horizon + 1;
    Result<int64_t> failures = store::CountFailures(*db, d.t.front(), failures_until, train_machines);
    if (!failures) return failures.error();
    fold_failures.push_back(*failures);
    if (*failures < r.training_failures) {
      r.training_failures = *failures;
      fewest = k;
    }
  }
  {
    size_t positives = 0;
    for (size_t i : folds[fewest].train) positives += d.y[i];
    if (r.training_failures < mc.min_failures || positives == 0 || folds[fewest].train.empty()) {
      return too_few(r.training_failures, folds[fewest].train.size(), positives);
    }
  }
  if (r.evaluated && (r.test_positives == 0 || r.test_positives == r.test_rows)) {
    return Status::InvalidArgument("the held-out rows (" + split.why + ") have " + std::to_string(r.test_positives) +
                                   " positive of " + std::to_string(r.test_rows) +
                                   " rows: both classes are needed to evaluate a model");
  }

  char eta[32];
  std::snprintf(eta, sizeof eta, "%.6f", mc.learning_rate);
  // One recipe for the evaluated model and the final one: the class imbalance of its own
  // rows weighted, then undone, so the output is a probability.
  auto fit = [&](const std::vector<size_t>& rows, bool shuffle) -> Result<Booster> {
    std::vector<float> y;
    double pos = 0;
    for (size_t i : rows) {
      y.push_back(static_cast<float>(d.y[i]));
      pos += d.y[i];
    }
    if (shuffle) std::shuffle(y.begin(), y.end(), std::mt19937(static_cast<uint32_t>(mc.seed)));
    const double neg = static_cast<double>(rows.size()) - pos;
    char spw[32];
    std::snprintf(spw, sizeof spw, "%.6f", neg / pos);
    const std::map<std::string, std::string> params = {
        {"objective", "binary:logistic"}, {"tree_method", "hist"}, {"max_depth", std::to_string(mc.max_depth)},
        {"eta", eta}, {"seed", std::to_string(mc.seed)}, {"scale_pos_weight", spw}, {"nthread", "2"},
        {"eval_metric", "aucpr"}, {"base_score", "0.5"}};
    Result<Booster> b = Booster::Train(d.Rows(rows), d.columns.size(), y, {}, params, static_cast<int>(mc.rounds));
    if (!b) return b.error();
    VIGIL_RETURN_IF_ERROR(b->UndoPositiveWeight(neg / pos));  // calibrated probabilities
    return b;
  };

  // Evaluation on the held-out rows: each fold's model scores its own held-out rows, pooled
  // in split.test's order (one fold: the split's model on its test rows). The model at its
  // chosen threshold; the ISO rule and the base rate (of each fold's training rows) at 0.5
  // (the ISO rule: unsatisfactory or worse).
  std::optional<Booster> booster;  // the stored model: the evaluated one, unless refit below
  std::vector<int> label;
  std::vector<double> prob, iso, base;
  if (r.evaluated) {
    for (size_t k = 0; k < folds.size(); ++k) {
      const Fold& f = folds[k];
      Result<Booster> b = fit(f.train, options.shuffle_labels);
      if (!b) return b.error();
      Result<std::vector<float>> p = b->Predict(d.Rows(f.test), d.columns.size());
      if (!p) return p.error();
      double train_pos = 0;
      for (size_t i : f.train) train_pos += d.y[i];
      TrainReport::FoldResult fr;
      fr.machines = f.machines;
      fr.train_rows = f.train.size();
      fr.test_rows = f.test.size();
      fr.training_failures = fold_failures[k];
      std::vector<double> fold_prob(p->begin(), p->end());
      std::vector<int> fold_label;
      for (size_t i : f.test) {
        fold_label.push_back(d.y[i]);
        fr.test_positives += d.y[i];
        iso.push_back(IsoZoneScore(d.vibration[i]));
        base.push_back(train_pos / static_cast<double>(f.train.size()));
      }
      fr.roc_auc = RocAuc(fold_prob, fold_label);
      fr.pr_auc = PrAuc(fold_prob, fold_label);
      prob.insert(prob.end(), fold_prob.begin(), fold_prob.end());
      label.insert(label.end(), fold_label.begin(), fold_label.end());
      if (kfold) r.folds.push_back(std::move(fr));
      else booster.emplace(std::move(*b));
    }
    r.threshold = ChooseThreshold(prob, label, *goal);
    r.eval_threshold = r.threshold.threshold ? *r.threshold.threshold : WarningThreshold(mc, std::nullopt);
    if (r.threshold.threshold) r.curve = CurveAround(prob, label, *r.threshold.threshold);
    r.model = Evaluate(prob, label, r.eval_threshold);
    if (r.iso_evaluated) r.iso_rule = Evaluate(iso, label, 0.5);
    r.base_rate = Evaluate(base, label, 0.5);
  } else {
    r.threshold.why = "none chosen: no held-out rows (model.test_fraction = 0)";
    r.eval_threshold = WarningThreshold(mc, std::nullopt);
    Result<Booster> b = fit(split.train, options.shuffle_labels);
    if (!b) return b.error();
    booster.emplace(std::move(*b));
  }

  Result<std::optional<ModelRecord>> current = CurrentModel(*db);
  if (!current) return current.error();
  std::string cols = "[";
  for (size_t i = 0; i < d.columns.size(); ++i) cols += (i ? ",\"" : "\"") + d.columns[i] + "\"";
  cols += "]";
  // The current model against the held-out rows. Scored on them only when it reads the
  // same columns and did not train on them; one that trained on them (a final model fit
  // on all rows does) would look better than it is: its own held-out PR AUC stands in.
  std::optional<double> current_own_pr_auc;
  if (*current && r.evaluated) {
    r.current_id = (*current)->id;
    int64_t min_test_t = INT64_MAX;
    for (size_t i : split.test) min_test_t = std::min(min_test_t, d.t[i]);
    const int64_t cur_trained_until = ModelTrainedUntil(**current, horizon);
    Result<Booster> cur = Booster::Load((*current)->file);
    if (ModelColumns(**current) != d.columns) {
      r.current_unusable = "it was trained on other features";
    } else if (!cur) {
      r.current_unusable = "its file cannot be loaded: " + cur.error().message();
    } else if (cur_trained_until >= min_test_t && ModelSplitKind(**current) != SplitName(split.kind)) {
      // A PR AUC follows its held-out rows' base rate: another split's figure (the newest
      // quarter of the time range, one fold of machines, all of them pooled) measures
      // something else.
      r.current_unusable = "it trained on rows of this test set and was evaluated by the " + ModelSplitKind(**current) +
                           " split, so its held-out PR AUC does not compare";
    } else if (cur_trained_until >= min_test_t) {
      current_own_pr_auc = ModelHeldOutPrAuc(**current);
      r.current_unusable = "it trained on rows of this test set (until " + FormatTimestampMs(cur_trained_until) + ")";
    } else if (Result<std::vector<float>> cp = cur->Predict(d.Rows(split.test), d.columns.size()); !cp) {
      r.current_unusable = "it cannot score the test rows: " + cp.error().message();
    } else {
      r.current = Evaluate(std::vector<double>(cp->begin(), cp->end()), label, r.eval_threshold);
    }
  } else if (*current) {
    r.current_id = (*current)->id;
    r.current_unusable = "no held-out rows (model.test_fraction = 0)";
  }

  // The final model: fit again on every (label-complete) row (model.refit), or the
  // evaluated one. k-fold has no single evaluated model: its final model always fits all.
  std::vector<size_t> all_rows(d.rows());
  for (size_t i = 0; i < d.rows(); ++i) all_rows[i] = i;
  r.refit = r.evaluated && (mc.refit || kfold);
  const std::vector<size_t>& final_rows = r.refit ? all_rows : split.train;
  r.final_rows = final_rows.size();
  if (r.refit) {
    Result<Booster> final_model = fit(all_rows, options.shuffle_labels);
    if (!final_model) return final_model.error();
    booster.emplace(std::move(*final_model));
  }
  // Remaining useful life: the same recipe as a regression, on the rows whose RUL is known,
  // evaluated fold by fold as the classifier is.
  std::optional<Booster> rul_model;
  if (rul_cap > 0 && !d.rul_h.empty()) {
    auto known = [&](const std::vector<size_t>& rows) {
      std::vector<size_t> out;
      for (size_t i : rows) {
        if (!std::isnan(d.rul_h[i])) out.push_back(i);
      }
      return out;
    };
    auto fit_rul = [&](const std::vector<size_t>& rows) -> Result<Booster> {
      std::vector<float> y;
      for (size_t i : rows) y.push_back(d.rul_h[i]);
      const std::map<std::string, std::string> params = {
          {"objective", "reg:squarederror"}, {"tree_method", "hist"}, {"max_depth", std::to_string(mc.max_depth)},
          {"eta", eta}, {"seed", std::to_string(mc.seed)}, {"nthread", "2"}, {"base_score", "0.5"}};
      return Booster::Train(d.Rows(rows), d.columns.size(), y, {}, params, static_cast<int>(mc.rounds));
    };
    const std::vector<size_t> rall = known(all_rows);
    r.rul_train_rows = known(split.train).size();
    r.rul = r.rul_train_rows > 0;
    if (r.rul) {
      std::vector<double> pred, truth;
      for (size_t k = 0; r.evaluated && k < folds.size(); ++k) {
        const std::vector<size_t> rtrain = known(folds[k].train), rtest = known(folds[k].test);
        if (rtrain.empty()) continue;  // k-fold: this fold's RUL is not evaluated
        Result<Booster> m = fit_rul(rtrain);
        if (!m) return m.error();
        double se = 0;
        if (!rtest.empty()) {
          Result<std::vector<float>> p = m->Predict(d.Rows(rtest), d.columns.size());
          if (!p) return p.error();
          for (size_t j = 0; j < rtest.size(); ++j) {
            const double e = static_cast<double>((*p)[j]) - d.rul_h[rtest[j]];
            se += e * e;
            pred.push_back((*p)[j]);
            truth.push_back(d.rul_h[rtest[j]]);
          }
        }
        if (kfold) {
          r.folds[k].rul_test_rows = rtest.size();
          r.folds[k].rul_rmse_h = rtest.empty() ? 0 : std::sqrt(se / static_cast<double>(rtest.size()));
        } else {
          rul_model.emplace(std::move(*m));
        }
      }
      r.rul_test_rows = pred.size();
      if (!pred.empty()) {
        double se = 0;
        for (size_t j = 0; j < pred.size(); ++j) se += (pred[j] - truth[j]) * (pred[j] - truth[j]);
        r.rul_rmse_h = std::sqrt(se / static_cast<double>(pred.size()));
        r.rul_phm08 = Phm08Score(pred, truth);
      }
      if (r.refit || !r.evaluated) {
        Result<Booster> m = fit_rul(r.refit ? rall : known(split.train));
        if (!m) return m.error();
        rul_model.emplace(std::move(*m));
      }
      r.rul_final_rows = r.refit ? rall.size() : r.rul_train_rows;
    }
  }
  int64_t trained_until = INT64_MIN;
  double final_pos = 0;
  for (size_t i : final_rows) {
    trained_until = std::max(trained_until, d.t[i]);
    final_pos += d.y[i];
  }
  char spw[32];  // the stored model's own class weight
  std::snprintf(spw, sizeof spw, "%.6f", (static_cast<double>(final_rows.size()) - final_pos) / final_pos);
  char thr_text[32] = "null";
  if (r.threshold.threshold) std::snprintf(thr_text, sizeof thr_text, "%.9g", *r.threshold.threshold);
  // The model file says what it needs by itself: vigil predict --model FILE.
  std::string col_list;
  for (size_t i = 0; i < d.columns.size(); ++i) col_list += (i ? "," : "") + d.columns[i];
  VIGIL_RETURN_IF_ERROR(booster->SetAttr(kAttrColumns, col_list));
  VIGIL_RETURN_IF_ERROR(booster->SetAttr(kAttrHorizonMs, std::to_string(horizon)));
  if (r.threshold.threshold) VIGIL_RETURN_IF_ERROR(booster->SetAttr(kAttrThreshold, thr_text));

  // Register, save the file, decide.
  ModelRecord rec;
  rec.created_ms = clock.NowMs();
  rec.data_from_ms = r.data_from_ms;
  rec.data_to_ms = r.data_to_ms;
  rec.split_ms = r.split_ms;
  rec.train_rows = static_cast<int64_t>(r.train_rows);
  rec.test_rows = static_cast<int64_t>(r.test_rows);
  rec.train_positives = static_cast<int64_t>(r.train_positives);
  rec.test_positives = static_cast<int64_t>(r.test_positives);
  auto json_list = [](const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += ",";
      AppendJsonString(items[i], &out);
    }
    return out + "]";
  };
  std::string held = json_list(split.test_machines);
  if (kfold) held += ",\"folds\":" + std::to_string(split.folds.size());  // K; metrics' folds: who and how well
  std::string goal_json;
  AppendJsonString(goal->text, &goal_json);
  rec.params_json = std::string("{\"objective\":\"binary:logistic\",\"rounds\":") + std::to_string(mc.rounds) +
                    ",\"max_depth\":" + std::to_string(mc.max_depth) + ",\"eta\":" + eta + ",\"seed\":" +
                    std::to_string(mc.seed) + ",\"scale_pos_weight\":" + spw + ",\"prior_corrected\":true,\"stride_ms\":" +
                    std::to_string(mc.stride_ms) + ",\"shuffled_labels\":" + (options.shuffle_labels ? "true" : "false") +
                    ",\"split\":\"" + SplitName(split.kind) + "\",\"test_machines\":" + held +
                    ",\"refit\":" + (r.refit ? "true" : "false") + ",\"final_rows\":" + std::to_string(r.final_rows) +
                    ",\"trained_until_ms\":" + std::to_string(trained_until) + ",\"threshold\":" + thr_text +
                    ",\"threshold_goal\":" + goal_json + ",\"horizon_ms\":" + std::to_string(horizon) +
                    ",\"columns\":" + cols;
  if (r.rul) {
    char rul_json[256];
    std::snprintf(rul_json, sizeof rul_json,
                  ",\"rul_cap_ms\":%lld,\"rul_train_rows\":%zu,\"rul_test_rows\":%zu,\"rul_final_rows\":%zu,"
                  "\"rul_rmse_h\":%.6f,\"rul_phm08\":%.6f",
                  static_cast<long long>(rul_cap), r.rul_train_rows, r.rul_test_rows, r.rul_final_rows,
                  r.rul_rmse_h, r.rul_phm08);
    rec.params_json += rul_json;
  }
  rec.params_json += "}";
  rec.status = "training";
  Result<int64_t> id = InsertModel(*db, rec);
  if (!id) return id.error();
  rec.id = r.model_id = *id;
  std::error_code ec;
  std::filesystem::create_directories(ModelsDir(config), ec);
  rec.file = r.file = data_paths::ModelFile(config.data_dir, rec.id);
  VIGIL_RETURN_IF_ERROR(booster->Save(rec.file));
  if (rul_model) {
    VIGIL_RETURN_IF_ERROR(rul_model->SetAttr(kAttrColumns, col_list));
    VIGIL_RETURN_IF_ERROR(rul_model->SetAttr("vigil_rul_cap_ms", std::to_string(rul_cap)));
    r.rul_file = RulModelFile(rec.file);
    VIGIL_RETURN_IF_ERROR(rul_model->Save(r.rul_file));
  }

  bool eligible = false;
  if (!r.evaluated) {
    eligible = !*current;
    r.decision = eligible ? "promoted: the first model (not evaluated: model.test_fraction = 0)"
                          : "not promoted: not evaluated (model.test_fraction = 0); promote it with vigil models promote " +
                                std::to_string(rec.id) + " if that is intended";
    r.promoted = eligible && options.promote;
    if (eligible && !options.promote) {
      r.decision = "not promoted (--no-promote): promote it with vigil models promote " + std::to_string(rec.id);
    }
  } else {
    const bool beats_base = r.model.pr_auc > r.base_rate.pr_auc;
    const bool not_worse = r.current ? r.model.pr_auc >= r.current->pr_auc
                           // stored to 6 decimals: the same model must compare equal
                           : current_own_pr_auc ? r.model.pr_auc + 5e-7 >= *current_own_pr_auc
                                                : true;
    // Between two time splits: the current model, trained up to its own split, may have
    // trained on this test period when that split is later: both then look better than
    // they are, and a model tested on older data must not replace one tested on newer data
    // unannounced.
    const bool both_time = split.kind == SplitKind::kTime && *current && ModelSplitKind(**current) == "time";
    const bool not_older = !both_time || rec.split_ms >= (*current)->split_ms;
    char own[64] = "";
    if (current_own_pr_auc) std::snprintf(own, sizeof own, "%.3f", *current_own_pr_auc);
    if (!beats_base) {
      r.decision = "not promoted: its PR AUC is no better than the base rate's on the held-out rows";
    } else if (!not_older) {
      r.decision = "not promoted: its test period starts " + FormatTimestampMs(rec.split_ms) +
                   ", before the current model " + std::to_string(r.current_id) + "'s (" +
                   FormatTimestampMs((*current)->split_ms) +
                   "): it was tested on older data; promote it by hand (vigil models promote " + std::to_string(rec.id) +
                   ") if that is intended";
    } else if (!not_worse) {
      r.decision = r.current ? "not promoted: worse than the current model " + std::to_string(r.current_id) +
                                   " on the held-out rows (PR AUC)"
                             : "not promoted: worse than the current model " + std::to_string(r.current_id) +
                                   "'s own held-out PR AUC " + own + " (" + r.current_unusable + ")";
    } else if (!options.promote) {
      r.decision = "not promoted (--no-promote): promote it with vigil models promote " + std::to_string(rec.id);
    } else {
      r.promoted = true;
      r.decision = r.current ? "promoted: not worse than model " + std::to_string(r.current_id) + " on the held-out rows"
                   : current_own_pr_auc
                       ? "promoted: not worse than model " + std::to_string(r.current_id) + "'s own held-out PR AUC " +
                             own + " (" + r.current_unusable + ", so it is not scored on them)"
                   : r.current_id ? "promoted: the current model " + std::to_string(r.current_id) +
                                        " cannot be compared (" + r.current_unusable + ")"
                                  : "promoted: the first model";
    }
    eligible = beats_base && not_worse && not_older;
  }
  // "promoted" is set by Promote() itself, in the transaction that logs the promotion.
  rec.status = eligible ? "candidate" : "rejected";
  rec.metrics_json = "{\"model\":" + EvalJson(r.evaluated ? std::optional(r.model) : std::nullopt) +
                     ",\"iso_rule\":" + EvalJson(r.evaluated && r.iso_evaluated ? std::optional(r.iso_rule) : std::nullopt) +
                     ",\"base_rate\":" + EvalJson(r.evaluated ? std::optional(r.base_rate) : std::nullopt) +
                     ",\"current\":" + EvalJson(r.current) +
                     ",\"current_id\":" + std::to_string(r.current_id) + ",\"training_failures\":" +
                     std::to_string(r.training_failures) + ",\"threshold\":" + thr_text;
  if (kfold) {  // the fold assignment, with each fold's own figures on its held-out rows
    rec.metrics_json += ",\"folds\":[";
    for (size_t k = 0; k < r.folds.size(); ++k) {
      const TrainReport::FoldResult& f = r.folds[k];
      rec.metrics_json += (k ? ",{\"machines\":" : "{\"machines\":") + json_list(f.machines);
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    ",\"rows\":%zu,\"positives\":%zu,\"training_failures\":%lld,\"roc_auc\":%.6f,\"pr_auc\":%.6f",
                    f.test_rows, f.test_positives, static_cast<long long>(f.training_failures), f.roc_auc,
                    f.pr_auc);
      rec.metrics_json += buf;
      if (r.rul) {
        std::snprintf(buf, sizeof buf, ",\"rul_test_rows\":%zu,\"rul_rmse_h\":%.6f", f.rul_test_rows, f.rul_rmse_h);
        rec.metrics_json += buf;
      }
      rec.metrics_json += "}";
    }
    rec.metrics_json += "]";
  }
  rec.metrics_json += ",\"decision\":";
  AppendJsonString(r.decision, &rec.metrics_json);
  rec.metrics_json += "}";
  VIGIL_RETURN_IF_ERROR(UpdateModel(*db, rec));
  if (r.promoted) VIGIL_RETURN_IF_ERROR(Promote(*db, rec.id, clock.NowMs()));
  return r;
}

std::string RulModelFile(const std::string& model_file) {
  const std::string ext = ".json";
  if (model_file.size() >= ext.size() && model_file.compare(model_file.size() - ext.size(), ext.size(), ext) == 0)
    return model_file.substr(0, model_file.size() - ext.size()) + "-rul.json";
  return model_file + "-rul.json";
}

double Phm08Score(const std::vector<double>& predicted, const std::vector<double>& truth) {
  double s = 0;
  for (size_t i = 0; i < predicted.size() && i < truth.size(); ++i) {
    const double d = predicted[i] - truth[i];
    s += d < 0 ? std::exp(-d / 13.0) - 1 : std::exp(d / 10.0) - 1;
  }
  return s;
}

}  // namespace vigil::model
