// vigil upload: a one-off catch-up of the upload (src/upload/): every published raw
// segment not in the ledger yet goes to the bucket, then exit. `vigil run` does the same
// in the background; both take the upload lock, so run this one while the daemon is
// stopped (or with upload.bucket unset in the daemon's config).
#include <cstdio>

#include "cli/commands.h"
#include "cli/common_flags.h"
#include "cli/progress.h"
#include "upload/uploader.h"

namespace vigil::cli {

Command AddUploadCommand(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "upload",
      "Upload every published raw segment not uploaded yet to the S3-compatible bucket of\n"
      "[upload] (key <prefix>/raw/gateway=<id>/date=D/machine_id=M/<segment>), record it in\n"
      "<data_dir>/upload/ledger.tsv, and exit. vigil run uploads in the background already;\n"
      "this is for a catch-up while the daemon is stopped.\n"
      "Example: VIGIL_S3_SECRET_ACCESS_KEY=... vigil upload --config /etc/vigil/vigil.toml");
  auto flags = std::make_shared<CommonFlags>();
  flags->Add(sub, /*broker=*/false);
  return {sub, [flags] {
            Result<Config> c = flags->Resolve();
            if (!c) return Fail("upload", c.error());
            if (c->upload.bucket.empty()) {
              return Fail("upload", Status::InvalidArgument("upload.bucket is not set: nothing to upload to"));
            }
            Clock& clock = SystemClock::Instance();
            upload::Uploader up(*c, clock);
            if (Status s = up.Open("vigil upload"); !s.ok()) return Fail("upload", s);
            ProgressBar bar("upload");
            const int64_t start = clock.NowMs();
            Result<upload::PassSummary> r = up.RunOnce(nullptr, [&](uint64_t done, uint64_t total) {
              const double secs = (clock.NowMs() - start) / 1000.0;
              char note[64];
              std::snprintf(note, sizeof note, "%.1f MB/s", secs > 0 ? done / 1e6 / secs : 0.0);
              bar.Update(static_cast<int64_t>(done), static_cast<int64_t>(total), note);
            });
            bar.Finish();
            const upload::UploadStats st = up.Stats();
            const double secs = (clock.NowMs() - start) / 1000.0;
            std::fprintf(stderr, "vigil upload: %llu object(s), %llu bytes in %.1f s to s3://%s; %llu in the ledger, %llu still queued\n",
                         (unsigned long long)st.objects, (unsigned long long)st.bytes, secs, c->upload.bucket.c_str(),
                         (unsigned long long)st.ledger_objects, (unsigned long long)st.backlog_files);
            if (!r) return Fail("upload", r.error());
            return kExitOk;
          }};
}

}  // namespace vigil::cli
