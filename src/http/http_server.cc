#include "http/http_server.h"

#include <httplib.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <thread>

#include "common/json_text.h"
#include "common/logging.h"

namespace vigil::http {
namespace {

uint64_t DiskFree(const std::string& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

std::string ReadyReason(const Sources& s) {
  if (!s.broker_connected()) return "not connected to the broker";
  if (::access(s.data_dir.c_str(), W_OK) != 0) return "data directory not writable: " + s.data_dir;
  return "";
}

void Metric(std::string* out, const char* name, const char* type, const char* help, uint64_t v) {
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
          std::to_string(v) + "\n";
}

}  // namespace

std::string MetricsText(const Sources& s) {
  const ingest::IngestCounts c = s.ingest();
  const lake::LakeStats l = s.lake();
  std::string out;
  Metric(&out, "vigil_messages_received_total", "counter", "MQTT messages received.", c.received);
  Metric(&out, "vigil_messages_accepted_total", "counter", "Messages written to the raw lake.", c.accepted);
  out += "# HELP vigil_messages_quarantined_total Messages quarantined, by reason.\n"
         "# TYPE vigil_messages_quarantined_total counter\n";
  for (int i = 0; i < kReasonCount; ++i) {
    out += "vigil_messages_quarantined_total{reason=\"" + std::string(ReasonCode(static_cast<Reason>(i))) + "\"} " +
           std::to_string(c.by_reason[i]) + "\n";
  }
  Metric(&out, "vigil_write_errors_total", "counter", "Lake writes that failed (retried, never acknowledged).", c.write_errors);
  Metric(&out, "vigil_lake_lines_written_total", "counter", "Lines written to the lake and quarantine.", l.lines);
  Metric(&out, "vigil_lake_bytes_written_total", "counter", "Bytes written to the lake and quarantine.", l.bytes);
  Metric(&out, "vigil_lake_segments_published_total", "counter", "Segments published.", l.segments_published);
  Metric(&out, "vigil_lake_open_segments", "gauge", "Segments being written.", l.open_segments);
  Metric(&out, "vigil_lake_syncs_total", "counter", "fdatasync/syncfs calls.", l.syncs);
  Metric(&out, "vigil_broker_connected", "gauge", "1 when connected to the broker.", s.broker_connected() ? 1 : 0);
  const uint64_t connects = s.broker_connects();
  Metric(&out, "vigil_broker_connects_total", "counter", "Successful broker connections.", connects);
  Metric(&out, "vigil_broker_reconnects_total", "counter", "Reconnections after the first.", connects ? connects - 1 : 0);
  Metric(&out, "vigil_disk_free_bytes", "gauge", "Free bytes on the data directory's filesystem.", DiskFree(s.data_dir));
  return out;
}

class HttpServer::Impl {
 public:
  httplib::Server server;
  std::thread thread;
};

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {}
HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start(const std::string& listen, Sources sources, int* bound_port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("http.listen '" + listen + "': expected ADDR:PORT or off");
  const std::string host = listen.substr(0, colon);
  int port = std::atoi(listen.c_str() + colon + 1);
  auto& srv = impl_->server;
  srv.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  srv.Get("/readyz", [sources](const httplib::Request&, httplib::Response& res) {
    std::string why = ReadyReason(sources);
    res.status = why.empty() ? 200 : 503;
    res.set_content(why.empty() ? "ready\n" : "not ready: " + why + "\n", "text/plain");
  });
  srv.Get("/metrics", [sources](const httplib::Request&, httplib::Response& res) {
    res.set_content(MetricsText(sources), "text/plain; version=0.0.4");
  });
  srv.Get("/api/status", [sources](const httplib::Request&, httplib::Response& res) {
    const ingest::IngestCounts c = sources.ingest();
    const lake::LakeStats l = sources.lake();
    std::string why = ReadyReason(sources);
    std::string j = "{\"ready\":" + std::string(why.empty() ? "true" : "false") + ",\"reason\":";
    AppendJsonString(why, &j);
    j += ",\"broker_connected\":" + std::string(sources.broker_connected() ? "true" : "false") +
         ",\"received\":" + std::to_string(c.received) + ",\"accepted\":" + std::to_string(c.accepted) +
         ",\"quarantined\":" + std::to_string(c.quarantined) + ",\"lake_bytes_written\":" + std::to_string(l.bytes) +
         ",\"open_segments\":" + std::to_string(l.open_segments) + ",\"disk_free_bytes\":" +
         std::to_string(DiskFree(sources.data_dir)) + "}\n";
    res.set_content(j, "application/json");
  });
  srv.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content("internal error\n", "text/plain");
  });
  int bound = port == 0 ? srv.bind_to_any_port(host) : (srv.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return Status::Unavailable("cannot listen on " + listen + " (address in use or not local?); set http.listen, "
                               "or --http-listen off");
  }
  if (bound_port) *bound_port = bound;
  impl_->thread = std::thread([this] {
    try {
      impl_->server.listen_after_bind();
    } catch (...) {
      GetLogger("http")->error("HTTP server stopped by an exception");
    }
  });
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!impl_->thread.joinable()) return;
  impl_->server.stop();
  impl_->thread.join();
}

}  // namespace vigil::http
