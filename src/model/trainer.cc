#include "model/trainer.h"

#include <algorithm>
#include <filesystem>
#include <random>

#include "common/data_paths.h"
#include "common/dir_lock.h"
#include "common/json_text.h"
#include "common/logging.h"
#include "common/timestamp.h"
#include "model/booster.h"
#include "model/dataset.h"
#include "model/registry.h"

namespace vigil::model {
namespace {

std::string EvalJson(const Evaluation& e) {
  char buf[256];
  std::snprintf(buf, sizeof buf, R"({"roc_auc":%.6f,"pr_auc":%.6f,"brier":%.6f,"precision":%.6f,"recall":%.6f})",
                e.roc_auc, e.pr_auc, e.brier, e.precision, e.recall);
  return buf;
}

std::vector<float> Rows(const Dataset& d, const std::vector<size_t>& idx) {
  const size_t n = d.columns.size();
  std::vector<float> x;
  x.reserve(idx.size() * n);
  for (size_t i : idx) x.insert(x.end(), d.x.begin() + i * n, d.x.begin() + (i + 1) * n);
  return x;
}

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
  const std::string db_path = data_paths::Database(config.data_dir);
  Result<Db> db = Db::Open(db_path);
  if (!db) return db.error();
  Result<DirLock> lock = DirLock::Acquire(data_paths::TrainLock(config.data_dir), "vigil train");
  if (!lock) return lock.error();
  if (Result<int64_t> failed = FailUnfinished(*db); !failed) return failed.error();
  Result<Dataset> data = LoadLabelled(db_path, config, mc.stride_ms);
  if (!data) return data.error();
  const Dataset& d = *data;
  if (d.rows() == 0) {
    return Status::InvalidArgument("no labelled rows in " + db_path +
                                   " yet: labels are known once a machine's data reaches 7 days past a window");
  }
  TrainReport r;
  const Split split = TimeSplit(d.t, mc.test_fraction, config.processing.label_horizon_ms);
  r.data_from_ms = d.t.front();
  r.data_to_ms = d.t.back();
  r.split_ms = split.split_ms;
  r.train_rows = split.train.size();
  r.test_rows = split.test.size();
  for (size_t i : split.train) r.train_positives += d.y[i];
  for (size_t i : split.test) r.test_positives += d.y[i];
  Result<int64_t> failures = store::CountFailures(*db, d.t.front(), split.split_ms);
  if (!failures) return failures.error();
  r.training_failures = *failures;
  if (r.training_failures < mc.min_failures || r.train_positives == 0 || split.train.empty()) {
    return Status::InvalidArgument(
        "too few labelled failures to train: " + std::to_string(r.training_failures) +
        " failure(s) label the " + std::to_string(r.train_rows) + " training rows (" +
        std::to_string(r.train_positives) + " positive), model.min_failures = " + std::to_string(mc.min_failures) +
        ". Let vigil collect more history, or lower model.min_failures.");
  }
  if (r.test_positives == 0 || r.test_positives == r.test_rows) {
    return Status::InvalidArgument("the test period (newest " + std::to_string(static_cast<int>(mc.test_fraction * 100)) +
                                   "% of the time range) has " + std::to_string(r.test_positives) + " positive of " +
                                   std::to_string(r.test_rows) + " rows: both classes are needed to evaluate a model");
  }

  std::vector<float> y;
  for (size_t i : split.train) y.push_back(static_cast<float>(d.y[i]));
  if (options.shuffle_labels) std::shuffle(y.begin(), y.end(), std::mt19937(static_cast<uint32_t>(mc.seed)));
  const double pos = static_cast<double>(r.train_positives), neg = static_cast<double>(r.train_rows) - pos;
  char spw[32], eta[32];
  std::snprintf(spw, sizeof spw, "%.6f", neg / pos);
  std::snprintf(eta, sizeof eta, "%.6f", mc.learning_rate);
  const std::map<std::string, std::string> params = {
      {"objective", "binary:logistic"}, {"tree_method", "hist"}, {"max_depth", std::to_string(mc.max_depth)},
      {"eta", eta}, {"seed", std::to_string(mc.seed)}, {"scale_pos_weight", spw}, {"nthread", "2"},
      {"eval_metric", "aucpr"}, {"base_score", "0.5"}};
  Result<Booster> booster = Booster::Train(Rows(d, split.train), d.columns.size(), y, {}, params, static_cast<int>(mc.rounds));
  if (!booster) return booster.error();
  VIGIL_RETURN_IF_ERROR(booster->UndoPositiveWeight(neg / pos));  // calibrated probabilities

  // Evaluation on the test rows: the model, the ISO rule, the base rate.
  const std::vector<float> test_x = Rows(d, split.test);
  Result<std::vector<float>> p = booster->Predict(test_x, d.columns.size());
  if (!p) return p.error();
  std::vector<int> label;
  std::vector<double> prob(p->begin(), p->end()), iso, base;
  for (size_t i : split.test) {
    label.push_back(d.y[i]);
    iso.push_back(IsoZoneScore(d.vibration[i]));
    base.push_back(pos / (pos + neg));
  }
  r.model = Evaluate(prob, label, mc.warning_threshold);
  r.iso_rule = Evaluate(iso, label, mc.warning_threshold);
  r.base_rate = Evaluate(base, label, mc.warning_threshold);

  Result<std::optional<ModelRecord>> current = CurrentModel(*db);
  if (!current) return current.error();
  std::string cols = "[";
  for (size_t i = 0; i < d.columns.size(); ++i) cols += (i ? ",\"" : "\"") + d.columns[i] + "\"";
  cols += "]";
  if (*current) {
    // Compared on these test rows only when it reads the same columns; otherwise its
    // numbers would be meaningless (and the scorer does not use it anyway).
    r.current_id = (*current)->id;
    Result<Booster> cur = Booster::Load((*current)->file);
    if (ModelColumns(**current) != d.columns) {
      r.current_unusable = "it was trained on other features";
    } else if (!cur) {
      r.current_unusable = "its file cannot be loaded: " + cur.error().message();
    } else if (Result<std::vector<float>> cp = cur->Predict(test_x, d.columns.size()); !cp) {
      r.current_unusable = "it cannot score the test rows: " + cp.error().message();
    } else {
      r.current = Evaluate(std::vector<double>(cp->begin(), cp->end()), label, mc.warning_threshold);
    }
  }

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
  rec.params_json = std::string("{\"objective\":\"binary:logistic\",\"rounds\":") + std::to_string(mc.rounds) +
                    ",\"max_depth\":" + std::to_string(mc.max_depth) + ",\"eta\":" + eta + ",\"seed\":" +
                    std::to_string(mc.seed) + ",\"scale_pos_weight\":" + spw + ",\"prior_corrected\":true,\"stride_ms\":" +
                    std::to_string(mc.stride_ms) + ",\"shuffled_labels\":" + (options.shuffle_labels ? "true" : "false") +
                    ",\"columns\":" + cols + "}";
  rec.status = "training";
  Result<int64_t> id = InsertModel(*db, rec);
  if (!id) return id.error();
  rec.id = r.model_id = *id;
  std::error_code ec;
  std::filesystem::create_directories(ModelsDir(config), ec);
  rec.file = r.file = data_paths::ModelFile(config.data_dir, rec.id);
  VIGIL_RETURN_IF_ERROR(booster->Save(rec.file));

  const bool beats_base = r.model.pr_auc > r.base_rate.pr_auc;
  const bool not_worse = !r.current || r.model.pr_auc >= r.current->pr_auc;
  // The current model, trained up to its own split, may have trained on this test period
  // when that split is later: both then look better than they are, and a model tested on
  // older data must not replace one tested on newer data unannounced.
  const bool not_older = !*current || rec.split_ms >= (*current)->split_ms;
  if (!beats_base) {
    r.decision = "not promoted: its PR AUC is no better than the base rate's on the test period";
  } else if (!not_older) {
    r.decision = "not promoted: its test period starts " + FormatTimestampMs(rec.split_ms) +
                 ", before the current model " + std::to_string(r.current_id) + "'s (" +
                 FormatTimestampMs((*current)->split_ms) +
                 "): it was tested on older data; promote it by hand (vigil models promote " + std::to_string(rec.id) +
                 ") if that is intended";
  } else if (!not_worse) {
    r.decision = "not promoted: worse than the current model " + std::to_string(r.current_id) +
                 " on the newest test period (PR AUC)";
  } else if (!options.promote) {
    r.decision = "not promoted (--no-promote): promote it with vigil models promote " + std::to_string(rec.id);
  } else {
    r.promoted = true;
    r.decision = r.current ? "promoted: not worse than model " + std::to_string(r.current_id) + " on the newest test period"
                 : r.current_id ? "promoted: the current model " + std::to_string(r.current_id) +
                                      " cannot be compared (" + r.current_unusable + ")"
                                : "promoted: the first model";
  }
  // "promoted" is set by Promote() itself, in the transaction that logs the promotion.
  rec.status = beats_base && not_worse && not_older ? "candidate" : "rejected";
  rec.metrics_json = "{\"model\":" + EvalJson(r.model) + ",\"iso_rule\":" + EvalJson(r.iso_rule) +
                     ",\"base_rate\":" + EvalJson(r.base_rate) +
                     ",\"current\":" + (r.current ? EvalJson(*r.current) : std::string("null")) +
                     ",\"current_id\":" + std::to_string(r.current_id) + ",\"training_failures\":" +
                     std::to_string(r.training_failures) + ",\"decision\":";
  AppendJsonString(r.decision, &rec.metrics_json);
  rec.metrics_json += "}";
  VIGIL_RETURN_IF_ERROR(UpdateModel(*db, rec));
  if (r.promoted) VIGIL_RETURN_IF_ERROR(Promote(*db, rec.id, clock.NowMs()));
  return r;
}

}  // namespace vigil::model
