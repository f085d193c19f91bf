#include <cmath>
#include <cstdio>

#include "cli/commands.h"
#include "cli/common_flags.h"
#include "vigil/config.h"

namespace vigil::cli {

Command AddCheckConfigCommand(CLI::App& app) {
  auto* sub = app.add_subcommand("check-config",
                                 "Validate a config file: every problem with its line and key. When valid,\n"
                                 "lists the feature columns (each [[feature_templates]] entry expanded).\n"
                                 "Example: vigil check-config /etc/vigil/vigil.toml");
  auto file = std::make_shared<std::string>();
  sub->add_option("FILE", *file, "The TOML file to check")->required();
  return {sub, [file] {
            Result<Config> c = LoadConfigFile(*file);
            Status s = c ? CheckConfig(*c) : c.error();
            if (!s.ok()) {
              std::fprintf(stderr, "%s: invalid configuration:\n%s\n", file->c_str(), s.message().c_str());
              return kExitUsage;
            }
            std::printf("%s: OK (%zu sensors, %zu features, data_dir %s)\n", file->c_str(),
                        c->sensors.size(), c->features.size(), c->data_dir.c_str());
            std::printf("features (column, sensor, aggregate, duration):\n%s", FeatureListing(*c).c_str());
            // How vigil train will evaluate (model/dataset.h ChooseSplit says why when it trains).
            const ModelConfig& mc = c->model;
            const int pct = static_cast<int>(std::lround(mc.test_fraction * 100));
            if (mc.test_fraction == 0) {
              std::printf("model.test_fraction 0: vigil train does not evaluate; the model trains on every label-complete row\n");
            } else if (mc.split == "machine_kfold") {
              std::printf("model.split machine_kfold: vigil train evaluates by grouped %lld-fold by machine (every machine held "
                          "out once; metrics and threshold on the pooled out-of-fold predictions; fewer folds when fewer "
                          "machines have a failure)\n", (long long)mc.folds);
            } else if (mc.split == "machine") {
              std::printf("model.split machine: vigil train holds out %d%% of the machines (drawn with model.seed)\n", pct);
            } else if (mc.split == "time") {
              std::printf("model.split time: vigil train tests on the newest %d%% of the time range, after a purge gap of one "
                          "horizon\n", pct);
            } else {
              std::printf("model.split auto: vigil train tests on the newest %d%% of the time range, or holds out %d%% of the "
                          "machines when that period lacks a class or half the machines\n", pct, pct);
            }
            if (c->model.rul_cap_ms > 0) {
              std::printf("model.rul_cap %s: vigil train and vigil run's retraining also fit a remaining-useful-life "
                          "model (rul_hours)\n", FormatDuration(c->model.rul_cap_ms).c_str());
            } else {
              std::printf("model.rul_cap off: no remaining-useful-life model (vigil train --rul-cap DURATION fits one)\n");
            }
            return kExitOk;
          }};
}

}  // namespace vigil::cli
