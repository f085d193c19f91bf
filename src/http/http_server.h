// Folder src/http/: health, metrics, the JSON API and the dashboard. Calls common, ingest,
// lake, store, model (message formats) and daemon (the scheduler's stats); read-only.
//
// HttpServer: health, metrics, the JSON API and the dashboard of `vigil run` over HTTP
// (the only code that includes httplib.h). Loopback by default (http.listen =
// "127.0.0.1:8080"; "off" disables); beyond loopback every path but /healthz and /readyz
// needs the token of http.token_file. Read-only.
//   /healthz            200 while the process serves requests
//   /readyz             200 when connected to the broker, the data directory is writable
//                       and the disk is not low; else 503 with the reason (with a low
//                       disk, the upload backlog that holds space and why it is stuck)
//   /metrics            Prometheus text format: ingest, lake, broker, processor, retention,
//                       model and alerts, disk, upload, fleet model announcements
//   /api/status         the daemon's state as JSON
//   /api/machines[/{id}], /api/machines/{id}/series, /api/alerts, /api/quarantine/samples
//                       the JSON API (http/api.h)
//   /                   the dashboard (src/http/assets/, embedded at build time)
// The server runs its own threads; the sources are read through thread-safe callbacks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ingest/ingest_sink.h"
#include "lake/disk_guard.h"
#include "lake/jsonl_writer.h"
#include "daemon/fleet_watcher.h"
#include "daemon/scheduler.h"
#include "upload/uploader.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::http {

struct Sources {
  Config config;
  std::function<bool()> broker_connected;
  std::function<uint64_t()> broker_connects;
  std::function<ingest::IngestCounts()> ingest;
  std::function<lake::LakeStats()> lake;
  std::function<daemon::SchedulerStats()> scheduler;
  const lake::DiskGuard* disk = nullptr;  // refreshed by the daemon's main loop
  std::function<upload::UploadStats()> upload;  // empty: upload off
  std::function<daemon::FleetStats()> fleet;    // empty: fleet announcements off
};

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();  // stops
  // Binds and starts serving; kInvalidArgument for a bad address, kUnavailable when the
  // port is taken. *bound_port receives the port (useful with port 0).
  Status Start(const std::string& listen, Sources sources, int* bound_port);
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The Prometheus exposition of the current counters.
std::string MetricsText(const Sources& s);

}  // namespace vigil::http
