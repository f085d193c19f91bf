// vigil export: the training set (features + label_failure_7d, and label_rul_hours with a
// RUL cap) as CSV, streaming from SQLite: labelled rows by default, --all for every row; or
// the latest_features snapshot, or failure_history. Timestamps as ISO-8601 UTC, empty cells for NULL: pandas reads it
// as it is (pd.read_csv(f, parse_dates=["window_start"])).
#include <cstdio>

#include "cli/commands.h"
#include "common/data_paths.h"
#include "cli/common_flags.h"
#include "store/export.h"

namespace vigil::cli {
namespace {

struct ExportFlags {
  CommonFlags common;
  std::string out = "-";
  std::string table = "features";
  bool all = false;
  std::string from, until;
  std::vector<std::string> machines;
  std::string rul_cap;  // overrides model.rul_cap
};

int RunExport(const ExportFlags& f) {
  Result<Config> c = f.common.Resolve();
  if (!c) return Fail("export", c.error());
  store::ExportQuery q;
  q.table = f.table;
  q.labelled_only = !f.all && f.table == "features";
  q.machines = f.machines;
  q.rul_cap_ms = c->model.rul_cap_ms;
  if (!f.rul_cap.empty()) {
    Result<int64_t> cap = ParseDuration(f.rul_cap);
    if (!cap || *cap <= 0) {
      std::fprintf(stderr, "vigil export: --rul-cap: %s\n", cap ? "must be positive" : cap.error().message().c_str());
      return kExitUsage;
    }
    q.rul_cap_ms = *cap;
  }
  if (Status s = ParseTimeRange(f.from, f.until, &q.from_ms, &q.until_ms); !s.ok()) return Fail("export", s);
  std::FILE* out = f.out == "-" ? stdout : std::fopen((f.out + ".tmp").c_str(), "w");
  if (!out) return Fail("export", Status::IoError("cannot write " + f.out));
  Result<int64_t> rows = store::ExportCsv(data_paths::Database(c->data_dir), *c, q, out);
  if (out != stdout) {
    bool ok = std::fclose(out) == 0 && rows.has_value();
    if (ok && std::rename((f.out + ".tmp").c_str(), f.out.c_str()) != 0) ok = false;
    if (!ok) std::remove((f.out + ".tmp").c_str());
  } else {
    std::fflush(stdout);
  }
  if (!rows) return Fail("export", rows.error());
  std::fprintf(stderr, "vigil export: %lld %s row(s) to %s\n", static_cast<long long>(*rows), f.table.c_str(),
               f.out == "-" ? "stdout" : f.out.c_str());
  return kExitOk;
}

}  // namespace

Command AddExportCommand(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "export",
      "Write the training set (features + label_failure_7d) as CSV: labelled rows only unless --all.\n"
      "With model.rul_cap (or --rul-cap) set, also label_rul_hours: the remaining-useful-life label\n"
      "vigil train learns (hours to the next failure, capped; empty while unknown).\n"
      "Examples:\n"
      "  vigil export --data-dir /var/lib/vigil --out train.csv --from 2025-09-01\n"
      "  vigil export --data-dir /var/lib/vigil --table latest_features --out -");
  auto f = std::make_shared<ExportFlags>();
  f->common.Add(sub, /*broker=*/false);
  sub->add_option("--out", f->out, "Output file (written atomically), - for stdout")->capture_default_str();
  sub->add_option("--table", f->table, "features, latest_features or failure_history")
      ->check(CLI::IsMember({"features", "latest_features", "failure_history"}))->capture_default_str();
  sub->add_flag("--all", f->all, "features: also the rows whose label is not known yet (NULL)");
  sub->add_option("--from", f->from, "First window start / event time (YYYY-MM-DD or ISO-8601), inclusive");
  sub->add_option("--until", f->until, "Last window start / event time, exclusive");
  sub->add_option("--machine", f->machines, "Only these machine ids (repeatable)");
  sub->add_option("--rul-cap", f->rul_cap,
                  "features: add label_rul_hours capped at this duration (e.g. 125h; overrides model.rul_cap)");
  return {sub, [f] { return RunExport(*f); }};
}

}  // namespace vigil::cli
