// vigil import: historical CSV into the lake, validated like MQTT messages. Safe beside a
// running daemon: its log is flock()ed, so the daemon's crash recovery leaves it.
#include <unistd.h>

#include <cstdio>
#include <limits>

#include "cli/commands.h"
#include "cli/common_flags.h"
#include "cli/progress.h"
#include "common/logging.h"
#include "ingest/csv_import.h"
#include "ingest/ingest_sink.h"
#include "lake/file_system.h"
#include "lake/jsonl_writer.h"
#include "lake/paths.h"

namespace vigil::cli {
namespace {

struct ImportFlags {
  CommonFlags common;
  std::string format = "long";
  std::vector<std::string> files;
  std::string report_path;
};

void WriteReport(const std::string& path, const ingest::ImportReport& r) {
  std::FILE* f = path == "-" ? stdout : std::fopen(path.c_str(), "w");
  if (!f) {
    std::fprintf(stderr, "vigil import: cannot write the report %s\n", path.c_str());
    return;
  }
  std::fprintf(f, "file,line,column,reason,detail\n");
  for (const auto& x : r.rejections) {
    std::string detail = x.detail;
    for (char& c : detail) c = c == '"' ? '\'' : c;
    std::fprintf(f, "%s,%lld,%s,%s,\"%s\"\n", x.file.c_str(), static_cast<long long>(x.line),
                 x.column.c_str(), std::string(ReasonCode(x.reason)).c_str(), detail.c_str());
  }
  if (f != stdout) std::fclose(f);
}

int RunImport(const ImportFlags& flags) {
  Result<Config> config = flags.common.Resolve();
  if (!config) return Fail("import", config.error());
  Result<ingest::CsvFormat> format = ingest::ParseCsvFormat(flags.format);
  if (!format) return Fail("import", format.error());

  Clock& clock = SystemClock::Instance();
  lake::FileSystem& fs = lake::PosixFileSystem::Instance();
  if (Status s = fs.CreateDirs(lake::LakeDir(config->data_dir), nullptr); !s.ok()) return Fail("import", s);
  // A bulk load: sync once per segment publish rather than per line, whatever the daemon uses.
  LakeConfig lake_config = config->lake;
  if (lake_config.fsync == FsyncPolicy::kAlways) lake_config.fsync = FsyncPolicy::kInterval;
  // Published by size only (lake.log_max_bytes, lake.segment_max_bytes), not by age: a
  // time-ordered history then leaves one segment per (date, machine, sensor) stream.
  lake_config.segment_max_age_ms = std::numeric_limits<int64_t>::max();
  lake::LakeWriter writer(lake_config, lake::LakeDir(config->data_dir), clock, fs);
  ingest::IngestSink sink(*config, writer);
  // What a crashed import or daemon left (logs of live writers are left alone).
  if (Result<lake::RecoveryReport> r = ingest::RecoverLake(writer, fs, sink, clock, lake_config.fsync); !r) {
    return Fail("import", r.error());
  }
  ingest::CsvImporter importer(*config, sink, clock);

  ingest::ImportReport report;
  for (const std::string& file : flags.files) {
    ProgressBar bar("import " + file);
    Status s = importer.ImportFile(file, *format, &report,
                                   [&](int64_t done, int64_t total) { bar.Update(done, total); });
    bar.Finish();
    if (!s.ok()) {
      (void)writer.Close();  // what was accepted so far is kept and published
      return Fail("import", s);
    }
  }
  if (Status s = writer.Close(); !s.ok()) return Fail("import", s);

  size_t shown = 0;
  for (const auto& x : report.rejections) {
    if (++shown > 20) break;
    std::fprintf(stderr, "%s:%lld:%s%s %s: %s\n", x.file.c_str(), static_cast<long long>(x.line),
                 x.column.empty() ? "" : " ", x.column.c_str(), std::string(ReasonCode(x.reason)).c_str(),
                 x.detail.c_str());
  }
  if (report.rejected > 20) {
    std::fprintf(stderr, "... and %llu more rejected (all are in the quarantine%s)\n",
                 static_cast<unsigned long long>(report.rejected - 20),
                 flags.report_path.empty() ? "; --report FILE lists them" : "");
  }
  if (!flags.report_path.empty()) WriteReport(flags.report_path, report);
  std::fprintf(stderr, "vigil import: %llu rows, %llu readings/events: %llu accepted into %s, %llu rejected (quarantined)\n",
               static_cast<unsigned long long>(report.rows), static_cast<unsigned long long>(report.messages),
               static_cast<unsigned long long>(report.accepted), lake::LakeDir(config->data_dir).c_str(),
               static_cast<unsigned long long>(report.rejected));
  return report.rejected > 0 ? kExitRejected : kExitOk;
}

}  // namespace

Command AddImportCommand(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "import",
      "Bulk-load CSV history into the lake, validated like MQTT messages.\n"
      "Formats (header row required):\n"
      "  long:     machine_id,timestamp_utc,sensor,value\n"
      "  wide:     machine_id,timestamp_utc,<sensor field>,...   (empty cell = no reading)\n"
      "  failures: machine_id,timestamp_utc,codigo_evento        (or event_code)\n"
      "Exit code 3 when some rows were rejected (they are quarantined and listed).\n"
      "Example: vigil import --data-dir /var/lib/vigil --format wide history-2025.csv");
  auto flags = std::make_shared<ImportFlags>();
  flags->common.Add(sub, /*broker=*/false);
  sub->add_option("--format", flags->format, "long, wide or failures")
      ->check(CLI::IsMember({"long", "wide", "failures"}))
      ->capture_default_str();
  sub->add_option("--report", flags->report_path, "Write every rejected row (file,line,column,reason,detail) as CSV; - = stdout");
  sub->add_option("FILE", flags->files, "CSV files")->required()->check(CLI::ExistingFile);
  return {sub, [flags] { return RunImport(*flags); }};
}

}  // namespace vigil::cli
