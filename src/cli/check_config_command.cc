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
