// vigil process: one processing run now (every published raw segment, in batches), then
// exit. Works while the daemon runs; refuses when another processor holds the lock.
#include <cstdio>

#include "cli/commands.h"
#include "cli/common_flags.h"
#include "lake/file_system.h"
#include "model/scorer.h"
#include "process/batch.h"

namespace vigil::cli {

int PrintRunSummary(const char* who, const Result<process::RunSummary>& r, int64_t ms) {
  if (!r) return Fail(who, r.error());
  const auto& t = r->totals;
  std::fprintf(stderr,
               "vigil %s: %d batch(es), %lld segment(s), %lld lines: %lld new readings, %lld duplicates, "
               "%lld failure events, %lld bad lines quarantined; %lld feature rows written in %.1f s\n",
               who, r->batches, (long long)t.segments, (long long)t.lines, (long long)t.readings,
               (long long)t.duplicates, (long long)t.failures, (long long)t.bad_lines, (long long)t.rows, ms / 1000.0);
  return kExitOk;
}

Command AddProcessCommand(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "process",
      "Process the published raw segments now: windows, features and labels into vigil.db,\n"
      "then move the segments to lake/archive. Safe while `vigil run` works; only one\n"
      "processor at a time. Example: vigil process --data-dir /var/lib/vigil");
  auto flags = std::make_shared<CommonFlags>();
  flags->Add(sub, /*broker=*/false);
  return {sub, [flags] {
            Result<Config> c = flags->Resolve();
            if (!c) return Fail("process", c.error());
            Clock& clock = SystemClock::Instance();
            process::Processor p(*c, clock, lake::PosixFileSystem::Instance());
            const int64_t start = clock.NowMs();
            // The current model scores the new rows (or, before any model, the anomaly
            // score) while the last batch's segments are archived.
            Result<model::ScoreSummary> s = Status::Internal("not scored");
            int64_t processed_ms = 0;
            Result<process::RunSummary> r = p.RunPending(nullptr, [&] {
              processed_ms = clock.NowMs();
              s = model::ScoreNew(*c);
            });
            int code = PrintRunSummary("process", r, (processed_ms ? processed_ms : clock.NowMs()) - start);
            if (code != kExitOk) return code;
            if (!s) return Fail("process", s.error());
            if (!s->warning.empty()) std::fprintf(stderr, "vigil process: %s\n", s->warning.c_str());
            if (s->model_id) {
              std::fprintf(stderr, "vigil process: model %lld scored %lld new row(s)\n", (long long)s->model_id,
                           (long long)s->rows_scored);
            }
            return kExitOk;
          }};
}

}  // namespace vigil::cli
