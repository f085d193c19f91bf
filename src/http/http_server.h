// HttpServer: health and metrics of `vigil run` over HTTP (the only code that includes
// httplib.h). Loopback by default (http.listen = "127.0.0.1:8080"; "off" disables).
//   /healthz     200 while the process serves requests
//   /readyz      200 when connected to the broker and the data directory is writable,
//                else 503 with the reason
//   /metrics     Prometheus text format (counters of ingest, lake and broker, disk free)
//   /api/status  the same as JSON
// The server runs its own threads; the sources are read through thread-safe callbacks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ingest/ingest_sink.h"
#include "lake/jsonl_writer.h"
#include "vigil/status.h"

namespace vigil::http {

struct Sources {
  std::string data_dir;
  std::function<bool()> broker_connected;
  std::function<uint64_t()> broker_connects;
  std::function<ingest::IngestCounts()> ingest;
  std::function<lake::LakeStats()> lake;
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

// The Prometheus exposition of the current counters (also used by tests).
std::string MetricsText(const Sources& s);

}  // namespace vigil::http
