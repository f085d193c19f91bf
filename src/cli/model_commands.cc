// vigil train, vigil models (list, promote, rollback, pull), vigil predict: the model stage
// (src/model/) on the command line.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <limits>
#include <memory>

#include "cli/commands.h"
#include "common/csv.h"
#include "common/data_paths.h"
#include "cli/common_flags.h"
#include "cli/fleet_pull.h"
#include "common/timestamp.h"
#include "model/booster.h"
#include "model/dataset.h"
#include "model/registry.h"
#include "model/trainer.h"
#include "store/export.h"

namespace vigil::cli {
namespace {

// "a,b,c" -> {"a", "b", "c"} (a model file's column list).
std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1) {
    out.push_back(text.substr(start, comma - start));
  }
  if (!text.empty()) out.push_back(text.substr(start));
  return out;
}

void PrintEval(const char* name, const model::Evaluation& e) {
  std::printf("  %-22s ROC AUC %.3f   PR AUC %.3f   Brier %.4f   precision %.3f   recall %.3f\n", name, e.roc_auc,
              e.pr_auc, e.brier, e.precision, e.recall);
}

// Grouped k-fold: what the folds trained on and held out.
void PrintFoldRows(const model::TrainReport& r) {
  size_t lo_rows = SIZE_MAX, hi_rows = 0;
  int64_t lo_failures = INT64_MAX, hi_failures = 0;
  for (const model::TrainReport::FoldResult& f : r.folds) {
    lo_rows = std::min(lo_rows, f.train_rows);
    hi_rows = std::max(hi_rows, f.train_rows);
    lo_failures = std::min(lo_failures, f.training_failures);
    hi_failures = std::max(hi_failures, f.training_failures);
  }
  std::printf("  each fold trains on the other folds' machines (%zu-%zu rows, %lld-%lld failures); held out: %zu rows "
              "(%zu positive), each label-complete row once\n",
              lo_rows, hi_rows, (long long)lo_failures, (long long)hi_failures, r.test_rows, r.test_positives);
}

// Grouped k-fold: each fold's own figures, and how far the folds agree.
void PrintFolds(const model::TrainReport& r) {
  std::printf("  fold  held out  positive  ROC AUC  PR AUC%s  machines\n", r.rul ? "  RUL RMSE" : "");
  double lo = 1, hi = 0, sum = 0, sum2 = 0;
  for (size_t k = 0; k < r.folds.size(); ++k) {
    const model::TrainReport::FoldResult& f = r.folds[k];
    std::string machines;
    for (const std::string& m : f.machines) machines += (machines.empty() ? "" : " ") + m;
    char rul[32] = "";
    if (r.rul) std::snprintf(rul, sizeof rul, "  %8.2f", f.rul_rmse_h);
    std::printf("  %4zu  %8zu  %8zu  %7.3f  %6.3f%s  %s\n", k + 1, f.test_rows, f.test_positives, f.roc_auc, f.pr_auc,
                rul, machines.c_str());
    lo = std::min(lo, f.roc_auc);
    hi = std::max(hi, f.roc_auc);
    sum += f.roc_auc;
    sum2 += f.roc_auc * f.roc_auc;
  }
  const double n = static_cast<double>(r.folds.size()), mean = sum / n;
  const double sd = n > 1 ? std::sqrt(std::max(0.0, (sum2 - n * mean * mean) / (n - 1))) : 0;
  std::printf("  ROC AUC over the folds: %.3f to %.3f (mean %.3f, sd %.3f)\n", lo, hi, mean, sd);
}

}  // namespace

Command AddTrainCommand(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "train",
      "Train a failure model (XGBoost) on the labelled features in vigil.db. Holds rows out\n"
      "(model.split: by time with a one-horizon purge gap, by machine, or grouped k-fold by machine\n"
      "with the folds' out-of-fold predictions pooled; it says which and why),\n"
      "weights the class imbalance, uses a fixed seed. Prints the held-out ROC AUC, PR AUC, Brier\n"
      "score, precision and recall next to the ISO 10816 rule and the base rate, the alert\n"
      "threshold it chose (model.threshold_goal) with the precision/recall around it, fits the\n"
      "final model on all rows (model.refit), stores it, and promotes it when it is not worse than\n"
      "the current one. Example: vigil train --data-dir /var/lib/vigil");
  auto flags = std::make_shared<CommonFlags>();
  auto opts = std::make_shared<model::TrainOptions>();
  auto no_promote = std::make_shared<bool>(false);
  flags->Add(sub, /*broker=*/false);
  sub->add_flag("--no-promote", *no_promote, "Register the model as a candidate only");
  auto rul_cap = std::make_shared<std::string>();
  sub->add_option("--rul-cap", *rul_cap,
                  "Also fit a remaining-useful-life model (hours to the next failure, capped at this duration, "
                  "e.g. 125h; overrides model.rul_cap), stored as models/model-<id>-rul.json; the scoring and "
                  "vigil predict add rul_hours");
  // For audits of the promotion rule: a model that cannot know anything.
  sub->add_flag("--shuffle-labels", opts->shuffle_labels, "Train on shuffled labels (a deliberately useless model)")
      ->group("");
  return {sub, [flags, opts, no_promote, rul_cap] {
            Result<Config> c = flags->Resolve();
            if (!c) return Fail("train", c.error());
            opts->promote = !*no_promote;
            if (!rul_cap->empty()) {
              Result<int64_t> cap = ParseDuration(*rul_cap);
              if (!cap || *cap <= 0) {
                std::fprintf(stderr, "vigil train: --rul-cap: %s\n",
                             cap ? "must be positive" : cap.error().message().c_str());
                return kExitUsage;
              }
              opts->rul_cap_ms = *cap;
            }
            Result<model::TrainReport> r = model::Train(*c, SystemClock::Instance(), *opts);
            if (!r) return Fail("train", r.error());
            std::printf("model %lld: data %s .. %s\n", (long long)r->model_id, FormatTimestampMs(r->data_from_ms).c_str(),
                        FormatTimestampMs(r->data_to_ms).c_str());
            std::printf("split: %s\n", r->split_why.c_str());
            const bool kfold = r->split == model::SplitKind::kMachineKFold;
            if (kfold) {
              PrintFoldRows(*r);
            } else {
              std::printf("  training: %zu rows (%zu positive, %lld failures); held out: %zu rows (%zu positive)\n",
                          r->train_rows, r->train_positives, (long long)r->training_failures, r->test_rows,
                          r->test_positives);
            }
            if (r->censored) {
              std::printf("  left out: %zu positive rows of each machine's newest horizon (their negatives are not "
                          "known yet: with them, the model would overrate failure)\n", r->censored);
            }
            if (kfold) PrintFolds(*r);
            if (r->evaluated) {
              if (kfold) {
                std::printf("evaluation on the pooled out-of-fold predictions of the %zu folds (model at threshold %.3f; "
                            "baselines at 0.5):\n", r->folds.size(), r->eval_threshold);
              } else {
                std::printf("evaluation on the held-out rows (model at threshold %.3f; baselines at 0.5):\n",
                            r->eval_threshold);
              }
              PrintEval("model", r->model);
              if (r->iso_evaluated) PrintEval("ISO 10816 zone rule", r->iso_rule);
              else std::printf("  no vibration sensor: ISO 10816 baseline skipped\n");
              PrintEval("base rate", r->base_rate);
              if (r->current) PrintEval(("current model " + std::to_string(r->current_id)).c_str(), *r->current);
              else if (r->current_id) std::printf("  current model %lld: not scored here: %s\n", (long long)r->current_id, r->current_unusable.c_str());
            }
            if (r->threshold.threshold) {
              std::printf("threshold %.3f chosen on the %s for %s (model.threshold_goal = \"%s\"):\n",
                          *r->threshold.threshold, kfold ? "pooled out-of-fold predictions" : "held-out rows",
                          r->threshold.why.c_str(), c->model.threshold_goal.c_str());
              std::printf("     threshold  precision  recall   flagged  missed\n");
              for (const model::CurvePoint& p : r->curve) {
                const bool chosen = p.threshold == *r->threshold.threshold;
                std::printf("  %s %8.3f  %9.3f  %6.3f  %8lld  %6lld\n", chosen ? "->" : "  ", p.threshold, p.precision,
                            p.recall, (long long)(p.tp + p.fp), (long long)p.fn);
              }
              if (c->model.warning_threshold > 0) {
                std::printf("  (alerts warn at model.warning_threshold = %.3f, set in the config)\n", c->model.warning_threshold);
              } else {
                std::printf("  alerts warn at it once this model is current (model.warning_threshold = 0)\n");
              }
            } else {
              std::printf("threshold: %s; alerts warn at %.3f\n", r->threshold.why.c_str(), r->eval_threshold);
            }
            if (kfold) {
              std::printf("final model: fit on all %zu label-complete rows; the evaluation above is of the same recipe, "
                          "one model per fold\n", r->final_rows);
            } else if (r->refit) {
              std::printf("final model: fit again on all %zu label-complete rows (model.refit = true); the evaluation above is "
                          "of the same recipe on the training rows\n", r->final_rows);
            } else if (r->evaluated) {
              std::printf("final model: the evaluated one, trained on the %zu training rows (model.refit = false)\n",
                          r->final_rows);
            } else {
              std::printf("final model: trained on all %zu labelled rows, not evaluated\n", r->final_rows);
            }
            if (r->rul) {
              if (r->rul_test_rows) {
                std::printf("remaining useful life (cap %s): on %zu %s rows RMSE %.2f h, PHM08 score %.1f "
                            "(%.2f a row); trained on %zu rows\n",
                            FormatDuration(r->rul_cap_ms).c_str(), r->rul_test_rows,
                            kfold ? "pooled out-of-fold" : "held-out", r->rul_rmse_h, r->rul_phm08,
                            r->rul_phm08 / static_cast<double>(r->rul_test_rows), r->rul_final_rows);
              } else {
                std::printf("remaining useful life (cap %s): not evaluated; trained on %zu rows\n",
                            FormatDuration(r->rul_cap_ms).c_str(), r->rul_final_rows);
              }
            }
            std::printf("%s\nfile: %s\n", r->decision.c_str(), r->file.c_str());
            if (!r->rul_file.empty()) std::printf("rul file: %s\n", r->rul_file.c_str());
            return kExitOk;
          }};
}

Command AddModelsCommand(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "models",
      "List the models in vigil.db (the current one is marked), promote one, roll back to the\n"
      "previous one, or pull the fleet's model from the bucket.\n"
      "Examples: vigil models; vigil models promote 3; vigil models rollback; vigil models pull");
  auto flags = std::make_shared<CommonFlags>();
  flags->Add(sub, /*broker=*/false);
  auto promote_id = std::make_shared<int64_t>(0);
  auto* promote = sub->add_subcommand("promote", "Make model ID the current one");
  promote->add_option("ID", *promote_id, "Model id (see vigil models)")->required();
  auto* rollback = sub->add_subcommand("rollback", "Undo the newest promotion: the previous model is current again");
  auto fleet_id = std::make_shared<std::string>();
  auto* pull = sub->add_subcommand(
      "pull",
      "Fetch the newest fleet model (fleet/fleet_train.py) from the bucket of [upload]\n"
      "(<upload.prefix>/models/<id>/manifest.json and its model file; same endpoint, region,\n"
      "credentials and CA file as vigil upload), check it, register it, and promote it only by\n"
      "this gateway's rule. Checks, each a clear error and exit 2 when it fails (nothing is\n"
      "registered): the file's SHA-256 against the manifest's, the manifest's feature columns\n"
      "against this config's, its config fingerprint (window, horizon, sensors, features)\n"
      "against this config's. The rule: on this gateway's recent labelled rows (the test period\n"
      "vigil train would use now: the newest model.test_fraction of the labelled rows' time\n"
      "range, one row per machine per model.stride) the fleet model's PR AUC (average\n"
      "precision) must be above the base rate's and not below the current model's. A refused\n"
      "model stays registered as 'rejected' (promote it by hand with vigil models promote ID);\n"
      "the reason is printed. A fleet id pulled before is not registered twice.\n"
      "Example: VIGIL_S3_SECRET_ACCESS_KEY=... vigil models pull --config /etc/vigil/vigil.toml");
  pull->add_option("--id", *fleet_id, "A fleet model id (default: the newest in the bucket)");
  for (auto* s : {promote, rollback, pull}) flags->Add(s, /*broker=*/false);
  return {sub, [flags, promote, rollback, pull, promote_id, fleet_id] {
            Result<Config> c = flags->Resolve();
            if (!c) return Fail("models", c.error());
            if (pull->parsed()) {
              Result<FleetPullReport> r = PullFleetModel(*c, SystemClock::Instance(), *fleet_id);
              if (!r) return Fail("models pull", r.error());
              const model::FleetManifest& m = r->manifest;
              const model::AdoptReport& a = r->adopt;
              std::printf("fleet model %s (s3://%s/%s): xgboost %s, data %s .. %s, test period from %s\n", m.id.c_str(),
                          c->upload.bucket.c_str(), r->manifest_key.c_str(), m.xgboost_version.c_str(),
                          FormatTimestampMs(m.data_from_ms).c_str(), FormatTimestampMs(m.data_to_ms).c_str(),
                          FormatTimestampMs(m.split_ms).c_str());
              if (a.already) {
                std::printf("%s\n", a.decision.c_str());
                return kExitOk;
              }
              std::printf("checked: sha256 %s, %zu feature columns, config fingerprint\n", m.model_sha256.c_str(),
                          m.columns.size());
              std::printf("on this gateway's recent labelled rows (%zu from %s, %zu positive; threshold %.2f):\n", a.rows,
                          FormatTimestampMs(a.from_ms).c_str(), a.positives, c->model.warning_threshold);
              if (a.fleet) PrintEval("fleet model", *a.fleet);
              if (a.base_rate) PrintEval("base rate", *a.base_rate);
              if (a.current) PrintEval(("current model " + std::to_string(a.current_id)).c_str(), *a.current);
              std::printf("registered as model %lld; %s\n", (long long)a.model_id, a.decision.c_str());
              return kExitOk;
            }
            // A training that died left its row "training": it is "failed" from now on.
            if (Result<int64_t> failed = model::FailUnfinishedTrainings(*c); !failed) return Fail("models", failed.error());
            Result<model::Db> db = model::Db::Open(data_paths::Database(c->data_dir));
            if (!db) return Fail("models", db.error());
            if (promote->parsed()) {
              // Said, not refused: the operator may mean it (vigil train refuses by itself).
              Result<std::optional<model::ModelRecord>> cur = model::CurrentModel(*db);
              Result<std::vector<model::ModelRecord>> listed = model::ListModels(*db);
              if (cur && *cur && listed) {
                for (const auto& m : *listed) {
                  if (m.id == *promote_id && m.split_ms < (*cur)->split_ms) {
                    std::fprintf(stderr,
                                 "note: model %lld was tested on older data than the current model %lld (test period from "
                                 "%s, not %s): their evaluations are not comparable\n",
                                 (long long)m.id, (long long)(*cur)->id, FormatTimestampMs(m.split_ms).c_str(),
                                 FormatTimestampMs((*cur)->split_ms).c_str());
                  }
                }
              }
              Status s = model::Promote(*db, *promote_id, SystemClock::Instance().NowMs());
              if (!s.ok()) return Fail("models promote", s);
              std::printf("model %lld is current\n", (long long)*promote_id);
              return kExitOk;
            }
            if (rollback->parsed()) {
              Result<std::optional<int64_t>> cur = model::Rollback(*db);
              if (!cur) return Fail("models rollback", cur.error());
              if (*cur) std::printf("model %lld is current again\n", (long long)**cur);
              else std::printf("no model is current now (scoring falls back to the anomaly score)\n");
              return kExitOk;
            }
            Result<std::vector<model::ModelRecord>> all = model::ListModels(*db);
            if (!all) return Fail("models", all.error());
            if (all->empty()) std::printf("no models yet: vigil train\n");
            for (const auto& m : *all) {
              std::printf("%s%-4lld %-9s created %s  data %s..%s  train %lld (%lld pos)  test %lld (%lld pos)\n     %s\n",
                          m.status == "promoted" ? "* " : "  ", (long long)m.id, m.status.c_str(),
                          FormatTimestampMs(m.created_ms).c_str(), FormatTimestampMs(m.data_from_ms).substr(0, 10).c_str(),
                          FormatTimestampMs(m.data_to_ms).substr(0, 10).c_str(), (long long)m.train_rows,
                          (long long)m.train_positives, (long long)m.test_rows, (long long)m.test_positives,
                          m.metrics_json.c_str());
            }
            if (std::any_of(all->begin(), all->end(), [](const auto& m) { return m.status == "failed"; })) {
              std::printf("failed: a training that did not finish (vigil stopped, crashed or was killed); such a row is\n"
                          "marked failed at the next start of vigil train, vigil run or vigil models, and never used\n");
            }
            return kExitOk;
          }};
}

Command AddPredictCommand(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "predict",
      "Score a CSV written by `vigil export` (default: each machine's newest row) with a model\n"
      "(default: the current one; --model ID or a model FILE) and write it back with a\n"
      "failure_probability_7d column (and model_id, empty for a file), for notebooks and audits.\n"
      "A model file and --input need no data directory.\n"
      "With a remaining-useful-life model beside it (model.rul_cap), also rul_hours.\n"
      "Example: vigil export --out rows.csv && vigil predict --input rows.csv --out scored.csv");
  auto flags = std::make_shared<CommonFlags>();
  flags->Add(sub, /*broker=*/false);
  auto input = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto model_arg = std::make_shared<std::string>();
  sub->add_option("--input", *input, "CSV from vigil export (default: each machine's newest row, latest_features)")
      ->check(CLI::ExistingFile);
  sub->add_option("--out", *output, "Output CSV (default: standard output)");
  sub->add_option("--model", *model_arg,
                  "Model id (default: the current model), or a model FILE (models/model-N.json, e.g. copied from "
                  "another gateway): with --input, no data directory is needed");
  return {sub, [flags, input, output, model_arg] {
            Result<Config> c = flags->Resolve();
            if (!c) return Fail("predict", c.error());
            const bool by_id = !model_arg->empty() &&
                               std::all_of(model_arg->begin(), model_arg->end(), [](char ch) { return ch >= '0' && ch <= '9'; });
            const bool from_file = !model_arg->empty() && !by_id;
            std::optional<model::ModelRecord> chosen;
            std::optional<model::Booster> booster;
            std::vector<std::string> model_columns;  // the model's own: it may predate the configuration
            std::string model_name, model_id_cell;
            std::optional<double> threshold;
            if (from_file) {
              Result<model::Booster> b = model::Booster::Load(*model_arg);
              if (!b) return Fail("predict", b.error());
              booster.emplace(std::move(*b));
              if (std::optional<std::string> cols = booster->Attr(model::kAttrColumns)) {
                model_columns = SplitList(*cols);
              } else {
                // A file from before the columns were kept in it: the configuration's.
                model_columns = model::FeatureColumns(*c);
                std::fprintf(stderr, "vigil predict: %s does not list its columns; using the configuration's features\n",
                             model_arg->c_str());
              }
              if (std::optional<std::string> t = booster->Attr(model::kAttrThreshold)) threshold = std::strtod(t->c_str(), nullptr);
              model_name = *model_arg;
            } else {
              Result<model::Db> db = model::Db::Open(data_paths::Database(c->data_dir));
              if (!db) return Fail("predict", db.error());
              const int64_t model_id = by_id ? std::stoll(*model_arg) : 0;
              if (model_id) {
                Result<std::vector<model::ModelRecord>> all = model::ListModels(*db);
                if (!all) return Fail("predict", all.error());
                for (const auto& m : *all) {
                  if (m.id == model_id) chosen = m;
                }
              } else {
                Result<std::optional<model::ModelRecord>> current = model::CurrentModel(*db);
                if (!current) return Fail("predict", current.error());
                chosen = *current;
              }
              if (!chosen) {
                return Fail("predict", Status::InvalidArgument(model_id ? "no model " + std::to_string(model_id)
                                                                        : std::string("no current model: vigil train first")));
              }
              Result<model::Booster> b = model::Booster::Load(chosen->file);
              if (!b) return Fail("predict", b.error());
              booster.emplace(std::move(*b));
              model_columns = model::ModelColumns(*chosen);
              threshold = model::ModelThreshold(*chosen);
              model_name = "model " + std::to_string(chosen->id);
              model_id_cell = std::to_string(chosen->id);
            }
            if (model_columns.empty()) {
              return Fail("predict", Status::InvalidArgument(model_name + " lists no feature columns"));
            }
            // The remaining-useful-life model trained beside it, when there is one.
            std::optional<model::Booster> rul_booster;
            {
              const std::string rul_file = model::RulModelFile(from_file ? *model_arg : chosen->file);
              std::error_code ec;
              if (std::filesystem::exists(rul_file, ec)) {
                Result<model::Booster> rb = model::Booster::Load(rul_file);
                if (!rb) return Fail("predict", rb.error());
                rul_booster.emplace(std::move(*rb));
              }
            }
            // The input as a FILE: the given file, or the newest rows (latest_features)
            // exported as vigil export would, in a temporary file.
            std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(nullptr, &std::fclose);
            if (!input->empty()) {
              in.reset(std::fopen(input->c_str(), "rb"));
              if (!in) return Fail("predict", Status::IoError("cannot open " + *input));
            } else {
              in.reset(std::tmpfile());
              store::ExportQuery q;
              q.table = "latest_features";
              q.labelled_only = false;  // the newest rows have no label yet
              Result<int64_t> n = in ? store::ExportCsv(data_paths::Database(c->data_dir), *c, q, in.get())
                                     : Result<int64_t>(Status::IoError("cannot create a temporary file"));
              if (!n) return Fail("predict", n.error());
              std::rewind(in.get());
            }
            csv::Reader reader(in.get());
            std::vector<std::string> names;
            int64_t line_no = 0;
            if (!reader.Next(&names, &line_no)) {
              return Fail("predict", Status::InvalidArgument((input->empty() ? std::string("latest_features") : *input) +
                                                             ": empty, a header row is needed"));
            }
            std::vector<int> pos;
            for (const std::string& col : model_columns) {
              auto it = std::find(names.begin(), names.end(), col);
              if (it == names.end()) {
                return Fail("predict", Status::InvalidArgument(
                                           (input->empty() ? std::string("latest_features") : *input) + ": no column '" +
                                           col + "' (" + model_name + " was trained on it)"));
              }
              pos.push_back(static_cast<int>(it - names.begin()));
            }
            std::vector<std::vector<std::string>> rows;
            std::vector<float> x;
            for (std::vector<std::string> cells; reader.Next(&cells, &line_no);) {
              for (int p : pos) {
                const std::string& v = p < static_cast<int>(cells.size()) ? cells[p] : std::string();
                x.push_back(v.empty() ? std::numeric_limits<float>::quiet_NaN() : std::strtof(v.c_str(), nullptr));
              }
              rows.push_back(std::move(cells));
            }
            if (std::ferror(in.get())) return Fail("predict", Status::IoError("read error"));
            Result<std::vector<float>> p = booster->Predict(x, pos.size());
            if (!p) return Fail("predict", p.error());
            std::vector<float> rul;
            if (rul_booster) {
              Result<std::vector<float>> rp = rul_booster->Predict(x, pos.size());
              if (!rp) return Fail("predict", rp.error());
              rul = std::move(*rp);
            }
            std::FILE* out = output->empty() ? stdout : std::fopen(output->c_str(), "w");
            if (!out) return Fail("predict", Status::IoError("cannot write " + *output));
            // Written back with the shared writer: LF line ends, quotes where needed.
            std::string text;
            names.push_back("failure_probability_7d");
            names.push_back("model_id");
            if (rul_booster) names.push_back("rul_hours");
            csv::AppendRecord(names, &text);
            char prob[32];
            for (size_t i = 0; i < rows.size(); ++i) {
              std::snprintf(prob, sizeof prob, "%.9g", (*p)[i]);
              rows[i].push_back(prob);
              rows[i].push_back(model_id_cell);  // empty for a model file
              if (rul_booster) {
                // A regression may overshoot the label's range a little: clamped to it.
                std::snprintf(prob, sizeof prob, "%.6g", std::max(0.0f, rul[i]));
                rows[i].push_back(prob);
              }
              csv::AppendRecord(rows[i], &text);
              if (text.size() > (1 << 16)) {
                std::fwrite(text.data(), 1, text.size(), out);
                text.clear();
              }
            }
            std::fwrite(text.data(), 1, text.size(), out);
            if (out != stdout) std::fclose(out);
            if (threshold) {
              const size_t above = static_cast<size_t>(std::count_if(p->begin(), p->end(), [&](float v) { return v >= *threshold; }));
              std::fprintf(stderr, "vigil predict: %zu rows scored with %s; %zu at or above its threshold %.3g (chosen by vigil train)\n",
                           rows.size(), model_name.c_str(), above, *threshold);
            } else {
              std::fprintf(stderr, "vigil predict: %zu rows scored with %s\n", rows.size(), model_name.c_str());
            }
            return kExitOk;
          }};
}

}  // namespace vigil::cli
