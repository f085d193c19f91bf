// vigil reprocess: rebuilds the feature store from the whole lake (raw + archive),
// atomically: into vigil.db.rebuild first, then swapped in. Takes the processor lock (or
// refuses), so it is safe while the daemon runs.
#include <cstdio>

#include "cli/commands.h"
#include "cli/common_flags.h"
#include "lake/file_system.h"
#include "process/batch.h"

namespace vigil::cli {

int PrintRunSummary(const char* who, const Result<process::RunSummary>& r, int64_t ms);

Command AddReprocessCommand(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "reprocess",
      "Rebuild vigil.db from the whole lake (raw + archive), e.g. after changing features.\n"
      "Atomic: an interrupted rebuild leaves the current tables as they were.\n"
      "Examples:\n"
      "  vigil reprocess --all --config /etc/vigil/vigil.toml --data-dir /var/lib/vigil\n"
      "  vigil reprocess --machine PUMP-A01 --data-dir /var/lib/vigil");
  auto flags = std::make_shared<CommonFlags>();
  auto all = std::make_shared<bool>(false);
  auto machines = std::make_shared<std::vector<std::string>>();
  flags->Add(sub, /*broker=*/false);
  auto* all_opt = sub->add_flag("--all", *all, "Every machine and table; the only way to apply a new feature configuration");
  sub->add_option("--machine", *machines, "Only these machines (repeatable); the configuration must be the database's")
      ->excludes(all_opt);
  return {sub, [flags, all, machines] {
            if (!*all && machines->empty()) {
              return Fail("reprocess", Status::InvalidArgument("say what to rebuild: --all or --machine ID"));
            }
            Result<Config> c = flags->Resolve();
            if (!c) return Fail("reprocess", c.error());
            Clock& clock = SystemClock::Instance();
            process::Processor p(*c, clock, lake::PosixFileSystem::Instance());
            const int64_t start = clock.NowMs();
            Result<process::RunSummary> r = p.Reprocess(*machines);
            return PrintRunSummary("reprocess", r, clock.NowMs() - start);
          }};
}

}  // namespace vigil::cli
