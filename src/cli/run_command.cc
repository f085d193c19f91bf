// vigil run: the daemon. Wires ingest (MQTT -> validation -> lake) on Paho's thread, the
// scheduler (process, model, retention) on its own and HTTP; the main thread runs
// daemon::MainLoop (segment ages, interval syncs, reconnects, stats) until SIGTERM/SIGINT.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/common_flags.h"
#include "cli/fleet_pull.h"
#include "common/signals.h"
#include "common/data_paths.h"
#include "http/http_server.h"
#include "common/dir_lock.h"
#include "common/logging.h"
#include "ingest/ingest_sink.h"
#include "ingest/mqtt_subscriber.h"
#include "lake/file_system.h"
#include "lake/jsonl_writer.h"
#include "lake/paths.h"
#include "lake/recovery.h"
#include "model/trainer.h"
#include "process/batch.h"
#include "daemon/fleet_watcher.h"
#include "daemon/main_loop.h"
#include "daemon/scheduler.h"
#include "upload/uploader.h"
#include "lake/disk_guard.h"
#include "vigil/clock.h"

namespace vigil::cli {
namespace {

int RunDaemon(const Config& config, bool process_on_exit) {
  auto log = GetLogger("cli");
  Clock& clock = SystemClock::Instance();
  lake::FileSystem& fs = lake::PosixFileSystem::Instance();

  // Signals are taken synchronously by the main loop; block them before any thread starts
  // so that Paho's threads inherit the mask.
  const sigset_t signals = BlockTerminationSignals();

  if (Status s = fs.CreateDirs(lake::LakeDir(config.data_dir), nullptr); !s.ok()) {
    return Fail("run", Status::IoError("cannot create the data directory: " + s.message()));
  }
  Result<DirLock> lock = DirLock::Acquire(data_paths::RunLock(config.data_dir), "vigil run");
  if (!lock) return Fail("run", lock.error());
  // A training that died (its models row still "training") is marked failed now.
  if (Result<int64_t> failed = model::FailUnfinishedTrainings(config); !failed) {
    log->warn("cannot check the model registry for unfinished trainings: {}", failed.error().message());
  }

  // Upload (src/upload/): opened before the writer publishes anything, so every segment
  // published from now on is queued; its thread starts with the scheduler's.
  std::unique_ptr<upload::Uploader> uploader;
  if (!config.upload.bucket.empty()) {
    uploader = std::make_unique<upload::Uploader>(config, clock);
    if (Status s = uploader->Open("vigil run's upload"); !s.ok()) {
      // Never a reason not to ingest: a `vigil upload` holding the lock keeps the queue
      // (published segments are still linked into it), an I/O error leaves them in raw/
      // for the next start's catch-up.
      log->error("upload off for this run: {}", s.message());
      uploader.reset();
    }
  } else if (fs.Exists(lake::UploadQueueDir(lake::LakeDir(config.data_dir)))) {
    log->warn("upload.bucket is not set but {} exists: published raw segments are still queued there for upload "
              "(remove the directory to stop queueing)", lake::UploadQueueDir(lake::LakeDir(config.data_dir)));
  }

  lake::LakeWriter writer(config.lake, lake::LakeDir(config.data_dir), clock, fs);
  ingest::IngestSink sink(config, writer);

  Result<lake::RecoveryReport> recovered = ingest::RecoverLake(writer, fs, sink, clock, config.lake.fsync);
  if (!recovered) return Fail("run", recovered.error());

  // Disk safety: measured before the first message and on every tick of the main loop.
  lake::DiskGuard disk(config.data_dir, static_cast<uint64_t>(config.lake.min_free_bytes));
  disk.Refresh();
  sink.set_disk_guard(&disk);

  std::atomic<bool> stopping{false};
  ingest::MqttSubscriber subscriber(config.mqtt, sink, clock, stopping);
  // The scheduled processor and retention: their own thread; the processor only reads
  // published segments, so it never waits for ingest nor ingest for it.
  daemon::Scheduler scheduler(config, clock, fs);

  // Fleet model announcements (fleet.model_topic): pulled on the watcher's own thread, the
  // subscriber only hands the payload over.
  std::unique_ptr<daemon::FleetWatcher> fleet;
  const std::string& fleet_topic = config.fleet.model_topic;
  if (!fleet_topic.empty() && fleet_topic != "off") {
    if (config.upload.bucket.empty()) {
      log->info("fleet model announcements on {} not followed: upload.bucket is not set", fleet_topic);
    } else {
      fleet = std::make_unique<daemon::FleetWatcher>(
          clock,
          [&config, &clock](const model::FleetAnnouncement& a) -> Result<model::AdoptReport> {
            const std::string key = FleetModelsPrefix(config.upload) + a.id + "/manifest.json";
            if (!a.manifest_key.empty() && a.manifest_key != key) {
              return Status::InvalidArgument("the announcement names manifest " + a.manifest_key + ", this gateway reads " +
                                             key + " (another upload.prefix?)");
            }
            Result<FleetPullReport> r = PullFleetModel(config, clock, a.id, a.sha256);
            if (!r) return r.error();
            return std::move(r->adopt);
          },
          [&config](const std::string& id) { return model::FindFleetModel(config, id); },
          config.upload.retry_max_ms);
      subscriber.SetSideTopic(fleet_topic, [w = fleet.get()](std::string payload) { w->Offer(std::move(payload)); });
    }
  }

  // HTTP first: a bad http.listen must fail before Paho's threads exist (returning with a
  // started client would unwind it under its own callback thread).
  http::HttpServer http_server;
  if (config.http.listen != "off" && !config.http.listen.empty()) {
    http::Sources sources{config,
                          [&] { return subscriber.is_connected(); },
                          [&] { return subscriber.connects(); },
                          [&] { return sink.Counts(); },
                          [&] { return writer.Stats(); },
                          [&] { return scheduler.Stats(); },
                          &disk,
                          {},
                          {}};
    if (uploader) sources.upload = [&] { return uploader->Stats(); };
    if (fleet) sources.fleet = [&] { return fleet->Stats(); };
    int port = 0;
    if (Status s = http_server.Start(config.http.listen, sources, &port); !s.ok()) return Fail("run", s);
    log->info("HTTP on {} (port {}): /healthz /readyz /metrics /api/status /api/machines", config.http.listen, port);
  }

  if (Status s = subscriber.Start(); !s.ok()) {
    http_server.Stop();
    return Fail("run", s);
  }
  log->info("vigil run: data dir {}, lake {}, fsync {}", config.data_dir, writer.lake_dir(),
            FsyncPolicyName(config.lake.fsync));
  scheduler.Start();
  if (uploader) uploader->Start();
  if (fleet) fleet->Start();

  daemon::MainLoop loop(config, writer, sink, subscriber, disk, scheduler);
  const int sig = loop.Run(signals);

  log->info("received {}: stopping (no new messages, publish open segments)",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
  stopping = true;
  loop.NotifyStopping();
  http_server.Stop();
  subscriber.Stop();
  scheduler.Stop();  // a running batch stops at its next batch boundary
  if (uploader) uploader->Stop();  // a PUT in flight finishes (or times out); the rest stays queued
  Status closed = writer.Close();
  loop.LogStats(true);
  // After the lake is closed: a pull in flight finishes first (upload.timeout bounds each
  // of its requests, so with a slow bucket this can outlast systemd's TimeoutStopSec; the
  // lake is safe by then, and the registry's writes are SQLite transactions).
  if (fleet) fleet->Stop();
  int code = kExitOk;
  if (closed.ok() && process_on_exit) {
    // Everything is published now: one last run makes the feature store current.
    process::Processor p(config, clock, fs);
    Result<process::RunSummary> r = p.RunPending();
    if (!r) log->error("final processing: {}", r.error().message());
    else log->info("final processing: {} batch(es), {} segments, {} rows", r->batches, r->totals.segments, r->totals.rows);
  }
  if (!closed.ok()) code = Fail("run", closed);
  else log->info("stopped cleanly; unacknowledged messages stay queued at the broker");
  // Exit without unwinding: Paho's thread may be parked in the message callback holding an
  // unacknowledged message, and destroying the client would wait for it. Everything of
  // ours is published and closed; the kernel closes the broker connection.
  spdlog::shutdown();
  std::fflush(nullptr);
  std::_Exit(code);
}

}  // namespace

Command AddRunCommand(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "run",
      "The daemon: subscribe to the broker and write every message to the lake.\n"
      "Example: vigil run --config /etc/vigil/vigil.toml --data-dir /var/lib/vigil");
  auto flags = std::make_shared<CommonFlags>();
  auto process_on_exit = std::make_shared<bool>(false);
  auto http_listen = std::make_shared<std::string>();
  flags->Add(sub, /*broker=*/true);
  sub->add_option("--http-listen", *http_listen, "ADDR:PORT for /healthz /readyz /metrics /api/status, or off (overrides http.listen)");
  sub->add_flag("--process-on-exit", *process_on_exit,
                "At shutdown, after publishing the open segments, process them into vigil.db");
  return {sub, [flags, process_on_exit, http_listen] {
            Result<Config> c = flags->Resolve();
            if (!c) return Fail("run", c.error());
            if (!http_listen->empty()) c->http.listen = *http_listen;
            return RunDaemon(*c, *process_on_exit);
          }};
}

}  // namespace vigil::cli
