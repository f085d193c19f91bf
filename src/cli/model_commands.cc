// vigil train, vigil models (list, promote, rollback, pull), vigil predict: the model stage
// (src/model/) on the command line.
#include <algorithm>
#include <cstdio>
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

void PrintEval(const char* name, const model::Evaluation& e) {
  std::printf("  %-22s ROC AUC %.3f   PR AUC %.3f   Brier %.4f   precision %.3f   recall %.3f\n", name, e.roc_auc,
              e.pr_auc, e.brier, e.precision, e.recall);
}

}  // namespace

Command AddTrainCommand(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "train",
      "Train a failure model (XGBoost) on the labelled features in vigil.db: a time-based split\n"
      "with a one-horizon purge gap, class imbalance weighted, a fixed seed. Prints the test\n"
      "period's ROC AUC, PR AUC, Brier score, precision and recall next to the ISO 10816 rule\n"
      "and the base rate, stores the model, and promotes it when it is not worse than the\n"
      "current one. Example: vigil train --data-dir /var/lib/vigil");
  auto flags = std::make_shared<CommonFlags>();
  auto opts = std::make_shared<model::TrainOptions>();
  auto no_promote = std::make_shared<bool>(false);
  flags->Add(sub, /*broker=*/false);
  sub->add_flag("--no-promote", *no_promote, "Register the model as a candidate only");
  // For audits of the promotion rule: a model that cannot know anything.
  sub->add_flag("--shuffle-labels", opts->shuffle_labels, "Train on shuffled labels (a deliberately useless model)")
      ->group("");
  return {sub, [flags, opts, no_promote] {
            Result<Config> c = flags->Resolve();
            if (!c) return Fail("train", c.error());
            opts->promote = !*no_promote;
            Result<model::TrainReport> r = model::Train(*c, SystemClock::Instance(), *opts);
            if (!r) return Fail("train", r.error());
            std::printf("model %lld: data %s .. %s, test period from %s (purge gap %s before it)\n",
                        (long long)r->model_id, FormatTimestampMs(r->data_from_ms).c_str(),
                        FormatTimestampMs(r->data_to_ms).c_str(), FormatTimestampMs(r->split_ms).c_str(),
                        FormatDuration(c->processing.label_horizon_ms).c_str());
            std::printf("  training: %zu rows (%zu positive, %lld failures); test: %zu rows (%zu positive)\n",
                        r->train_rows, r->train_positives, (long long)r->training_failures, r->test_rows,
                        r->test_positives);
            std::printf("evaluation on the test period (threshold %.2f):\n", c->model.warning_threshold);
            PrintEval("model", r->model);
            PrintEval("ISO 10816 zone rule", r->iso_rule);
            PrintEval("base rate", r->base_rate);
            if (r->current) PrintEval(("current model " + std::to_string(r->current_id)).c_str(), *r->current);
            std::printf("%s\nfile: %s\n", r->decision.c_str(), r->file.c_str());
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
      "(default: the current one) and write it back with a failure_probability_7d column,\n"
      "for notebooks and audits.\n"
      "Example: vigil export --out rows.csv && vigil predict --input rows.csv --out scored.csv");
  auto flags = std::make_shared<CommonFlags>();
  flags->Add(sub, /*broker=*/false);
  auto input = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto model_id = std::make_shared<int64_t>(0);
  sub->add_option("--input", *input, "CSV from vigil export (default: each machine's newest row, latest_features)")
      ->check(CLI::ExistingFile);
  sub->add_option("--out", *output, "Output CSV (default: standard output)");
  sub->add_option("--model", *model_id, "Model id (default: the current model)");
  return {sub, [flags, input, output, model_id] {
            Result<Config> c = flags->Resolve();
            if (!c) return Fail("predict", c.error());
            Result<model::Db> db = model::Db::Open(data_paths::Database(c->data_dir));
            if (!db) return Fail("predict", db.error());
            std::optional<model::ModelRecord> chosen;
            if (*model_id) {
              Result<std::vector<model::ModelRecord>> all = model::ListModels(*db);
              if (!all) return Fail("predict", all.error());
              for (const auto& m : *all) {
                if (m.id == *model_id) chosen = m;
              }
            } else {
              Result<std::optional<model::ModelRecord>> current = model::CurrentModel(*db);
              if (!current) return Fail("predict", current.error());
              chosen = *current;
            }
            if (!chosen) {
              return Fail("predict", Status::InvalidArgument(*model_id ? "no model " + std::to_string(*model_id)
                                                                       : std::string("no current model: vigil train first")));
            }
            Result<model::Booster> booster = model::Booster::Load(chosen->file);
            if (!booster) return Fail("predict", booster.error());
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
            // The chosen model's own columns: it may predate the current feature configuration.
            const std::vector<std::string> model_columns = model::ModelColumns(*chosen);
            if (model_columns.empty()) {
              return Fail("predict", Status::InvalidArgument("model " + std::to_string(chosen->id) +
                                                             " lists no feature columns in its parameters"));
            }
            for (const std::string& col : model_columns) {
              auto it = std::find(names.begin(), names.end(), col);
              if (it == names.end()) {
                return Fail("predict", Status::InvalidArgument(
                                           (input->empty() ? std::string("latest_features") : *input) + ": no column '" +
                                           col + "' (model " + std::to_string(chosen->id) + " was trained on it)"));
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
            std::FILE* out = output->empty() ? stdout : std::fopen(output->c_str(), "w");
            if (!out) return Fail("predict", Status::IoError("cannot write " + *output));
            // Written back with the shared writer: LF line ends, quotes where needed.
            std::string text;
            names.push_back("failure_probability_7d");
            names.push_back("model_id");
            csv::AppendRecord(names, &text);
            char prob[32];
            for (size_t i = 0; i < rows.size(); ++i) {
              std::snprintf(prob, sizeof prob, "%.9g", (*p)[i]);
              rows[i].push_back(prob);
              rows[i].push_back(std::to_string(chosen->id));
              csv::AppendRecord(rows[i], &text);
              if (text.size() > (1 << 16)) {
                std::fwrite(text.data(), 1, text.size(), out);
                text.clear();
              }
            }
            std::fwrite(text.data(), 1, text.size(), out);
            if (out != stdout) std::fclose(out);
            std::fprintf(stderr, "vigil predict: %zu rows scored with model %lld\n", rows.size(), (long long)chosen->id);
            return kExitOk;
          }};
}

}  // namespace vigil::cli
