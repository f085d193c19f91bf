#include "http/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "common/json_text.h"
#include "common/logging.h"
#include "http/api.h"
#include "http/assets.h"
#include "vigil/clock.h"

namespace vigil::http {
namespace {

std::string ReadyReason(const Sources& s) {
  // Disk low first: it is the cause when a long hold has also cost the broker connection.
  if (s.disk->low()) {
    std::string why = "disk low: " + std::to_string(s.disk->free_bytes() >> 20) + " MiB free < lake.min_free_bytes " +
                      std::to_string(s.disk->min_free_bytes() >> 20) + " MiB; not taking messages";
    if (s.upload) {
      const upload::UploadStats u = s.upload();
      if (u.backlog_files > 0) {
        why += "; " + std::to_string(u.backlog_files) + " segment(s), " + std::to_string(u.backlog_bytes >> 20) +
               " MiB wait for upload in lake/.upload" + (u.last_error.empty() ? "" : " (last error: " + u.last_error + ")");
      }
    }
    return why;
  }
  if (!s.broker_connected()) return "not connected to the broker";
  if (::access(s.config.data_dir.c_str(), W_OK) != 0) return "data directory not writable: " + s.config.data_dir;
  return "";
}

// One sample with its HELP and TYPE lines.
template <typename T>
void Metric(std::string* out, const char* name, const char* type, const char* help, T v) {
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " ";
  if constexpr (std::is_floating_point_v<T>) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(v));
    *out += buf;
  } else {
    *out += std::to_string(v);
  }
  *out += "\n";
}

void Header(std::string* out, const char* name, const char* type, const char* help) {
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

std::string ByReason(const ingest::IngestCounts& c) {
  std::string j = "{";
  for (int i = 0; i < kReasonCount; ++i) {
    j += (i ? ",\"" : "\"") + std::string(ReasonCode(static_cast<Reason>(i))) + "\":" + std::to_string(c.by_reason[i]);
  }
  return j + "}";
}

// localhost, 127.x.x.x or ::1, with or without brackets (a name like 127.evil.example is not).
bool IsLoopback(const std::string& host) {
  in_addr v4{};
  return host == "localhost" || host == "::1" || host == "[::1]" ||
         (inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127);
}

// The host part of a Host header: "[::1]:8080" -> "[::1]", "localhost:8080" -> "localhost".
std::string HostOnly(const std::string& host_header) {
  if (host_header.rfind('[', 0) == 0) return host_header.substr(0, host_header.find(']') + 1);
  return host_header.substr(0, host_header.find(':'));
}

const char* ContentType(const std::string& path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  if (path.ends_with(".svg")) return "image/svg+xml";
  return "text/plain; charset=utf-8";
}

// Constant-time comparison: the token must not leak through response timing.
bool SameToken(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// The value of the cookie named exactly vigil_token ("xvigil_token=" is another cookie).
std::string CookieToken(const std::string& cookies) {
  for (size_t at = 0; at < cookies.size();) {
    size_t end = cookies.find(';', at);
    if (end == std::string::npos) end = cookies.size();
    const size_t start = cookies.find_first_not_of(' ', at);
    if (start < end && cookies.compare(start, 12, "vigil_token=") == 0) return cookies.substr(start + 12, end - start - 12);
    at = end + 1;
  }
  return "";
}

}  // namespace

std::string MetricsText(const Sources& s) {
  const ingest::IngestCounts c = s.ingest();
  const lake::LakeStats l = s.lake();
  const daemon::SchedulerStats p = s.scheduler();
  std::string out;
  Metric(&out, "vigil_messages_received_total", "counter", "MQTT messages received.", c.received);
  Metric(&out, "vigil_messages_accepted_total", "counter", "Messages written to the raw lake.", c.accepted);
  // Counters of this process: they restart from zero when vigil starts (Prometheus' rate()
  // and increase() treat the drop as a counter reset); `vigil status` counts the quarantine
  // on disk, across restarts.
  Header(&out, "vigil_messages_quarantined_total", "counter",
         "Messages quarantined since this vigil started, by reason (restarts from zero at each start: "
         "a counter reset; vigil status counts the whole quarantine on disk).");
  for (int i = 0; i < kReasonCount; ++i) {
    out += "vigil_messages_quarantined_total{reason=\"" + std::string(ReasonCode(static_cast<Reason>(i))) + "\"} " +
           std::to_string(c.by_reason[i]) + "\n";
  }
  Metric(&out, "vigil_own_outputs_received_total", "counter",
         "vigil's own predictions and alerts received back under the topic prefix (not ingested).", c.own_outputs);
  Metric(&out, "vigil_write_errors_total", "counter", "Lake writes that failed (retried, never acknowledged).", c.write_errors);
  Metric(&out, "vigil_lake_lines_written_total", "counter", "Lines written to the lake and quarantine.", l.lines);
  Metric(&out, "vigil_lake_bytes_written_total", "counter", "Bytes written to the lake and quarantine.", l.bytes);
  Metric(&out, "vigil_lake_segments_published_total", "counter", "Segments published.", l.segments_published);
  Metric(&out, "vigil_lake_open_segments", "gauge", "Segments waiting in the active log (one per date, machine and kind).", l.open_segments);
  Metric(&out, "vigil_lake_syncs_total", "counter", "fdatasync/syncfs calls.", l.syncs);
  Metric(&out, "vigil_broker_connected", "gauge", "1 when connected to the broker.", s.broker_connected() ? 1 : 0);
  const uint64_t connects = s.broker_connects();
  Metric(&out, "vigil_broker_connects_total", "counter", "Successful broker connections.", connects);
  Metric(&out, "vigil_broker_reconnects_total", "counter", "Reconnections after the first.", connects ? connects - 1 : 0);

  Metric(&out, "vigil_processor_runs_total", "counter", "Scheduled processor runs (each takes all pending batches).", p.runs);
  Metric(&out, "vigil_processor_failed_runs_total", "counter", "Processor runs that failed (retried next interval).", p.failed_runs);
  Metric(&out, "vigil_processor_batches_total", "counter", "Batches committed to vigil.db.", p.batches);
  Metric(&out, "vigil_processor_segments_total", "counter", "Raw segments processed.", p.segments);
  Metric(&out, "vigil_processor_readings_total", "counter", "New readings stored.", p.readings);
  Metric(&out, "vigil_processor_rows_total", "counter", "Feature rows written or updated.", p.rows);
  Metric(&out, "vigil_processor_bad_lines_total", "counter", "Lake lines the processor quarantined.", p.bad_lines);
  Header(&out, "vigil_processor_run_duration_seconds", "summary", "Duration of processor runs.");
  char buf[96];
  std::snprintf(buf, sizeof buf, "vigil_processor_run_duration_seconds_sum %.6f\n", p.run_seconds_sum);
  out += buf;
  out += "vigil_processor_run_duration_seconds_count " + std::to_string(p.runs) + "\n";
  Metric(&out, "vigil_processor_last_run_duration_seconds", "gauge", "Duration of the last processor run.", p.last_run_seconds);
  Metric(&out, "vigil_processor_last_success_timestamp_seconds", "gauge",
         "Unix time of the last successful processor run (0: none yet).", p.last_success_ms / 1000.0);

  // Each family's HELP/TYPE right before its own samples, as the exposition format requires.
  const std::pair<const char*, lake::AreaUsage> areas[] = {{"raw", p.raw}, {"archive", p.archive}, {"quarantine", p.quarantine}};
  Header(&out, "vigil_lake_area_bytes", "gauge", "Bytes in each lake area (measured every retention.interval).");
  for (const auto& [name, usage] : areas) {
    out += std::string("vigil_lake_area_bytes{area=\"") + name + "\"} " + std::to_string(usage.bytes) + "\n";
  }
  Header(&out, "vigil_lake_area_files", "gauge", "Files in each lake area.");
  for (const auto& [name, usage] : areas) {
    out += std::string("vigil_lake_area_files{area=\"") + name + "\"} " + std::to_string(usage.files) + "\n";
  }
  Metric(&out, "vigil_retention_removed_segments_total", "counter", "Segments deleted by retention.", p.retention_removed_files);
  Metric(&out, "vigil_retention_removed_bytes_total", "counter", "Bytes deleted by retention.", p.retention_removed_bytes);
  Metric(&out, "vigil_model_current_id", "gauge", "The model scoring new rows (0: none, anomaly scores only).", p.model_id);
  Metric(&out, "vigil_model_rows_scored_total", "counter", "Feature rows scored by the current model.", p.rows_scored);
  Metric(&out, "vigil_alerts_raised_total", "counter", "Alerts raised (failure probability, ISO zone).", p.alerts_raised);
  Metric(&out, "vigil_outbox_published_total", "counter", "Predictions and alerts published over MQTT.", p.outbox.published);
  Metric(&out, "vigil_outbox_failures_total", "counter", "Failed attempts to publish (retried).", p.outbox.failures);
  Metric(&out, "vigil_outbox_superseded_total", "counter", "Predictions replaced by a newer one before they were published.", p.outbox.superseded);
  Metric(&out, "vigil_model_retrains_total", "counter", "Scheduled retrainings attempted.", p.retrains);
  Metric(&out, "vigil_disk_free_bytes", "gauge", "Free bytes on the data directory's filesystem.", s.disk->free_bytes());
  Metric(&out, "vigil_disk_min_free_bytes", "gauge", "lake.min_free_bytes: below it ingest pauses.", s.disk->min_free_bytes());
  Metric(&out, "vigil_disk_low", "gauge", "1 while ingest is paused for lack of disk space.", s.disk->low() ? 1 : 0);
  Metric(&out, "vigil_disk_low_episodes_total", "counter", "Times ingest paused for lack of disk space.", s.disk->low_episodes());
  if (s.upload) {
    const upload::UploadStats u = s.upload();
    Metric(&out, "vigil_upload_objects_total", "counter", "Raw segments uploaded to the bucket by this process.", u.objects);
    Metric(&out, "vigil_upload_bytes_total", "counter", "Bytes uploaded to the bucket by this process.", u.bytes);
    Metric(&out, "vigil_upload_failures_total", "counter", "Failed uploads (retried).", u.failures);
    Metric(&out, "vigil_upload_backlog_segments", "gauge", "Published raw segments waiting for upload.", u.backlog_files);
    Metric(&out, "vigil_upload_backlog_bytes", "gauge", "Bytes waiting for upload (kept on disk in lake/.upload).", u.backlog_bytes);
    Metric(&out, "vigil_upload_ledger_objects", "gauge", "Objects the upload ledger records (all time).", u.ledger_objects);
    Metric(&out, "vigil_upload_last_success_timestamp_seconds", "gauge", "Time of the last successful upload (0: none).",
           u.last_success_ms / 1000.0);
  }
  if (s.fleet) {
    const daemon::FleetStats f = s.fleet();
    Metric(&out, "vigil_fleet_announcements_total", "counter", "Messages received on fleet.model_topic.", f.announcements);
    Metric(&out, "vigil_fleet_announcements_malformed_total", "counter", "Fleet announcements that were not valid (ignored).", f.malformed);
    Metric(&out, "vigil_fleet_models_registered_total", "counter", "Fleet models pulled and registered by this process.", f.registered);
    Metric(&out, "vigil_fleet_models_promoted_total", "counter", "Fleet models promoted by this gateway's rule.", f.promoted);
    Metric(&out, "vigil_fleet_models_rejected_total", "counter", "Fleet models registered but refused by this gateway's rule.", f.rejected);
    Metric(&out, "vigil_fleet_announcements_known_total", "counter", "Announcements of a fleet model handled before (no-op).", f.already);
    Metric(&out, "vigil_fleet_pull_failures_total", "counter", "Failed fleet model pulls (network failures are retried).", f.failures);
    Metric(&out, "vigil_fleet_last_success_timestamp_seconds", "gauge", "Time of the last fleet model registered (0: none).",
           f.last_success_ms / 1000.0);
  }
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
  // httplib takes an IPv6 address without the brackets.
  const std::string bind_host = host.size() > 2 && host.front() == '[' && host.back() == ']' ? host.substr(1, host.size() - 2) : host;
  int port = -1;
  const char* port_end = listen.data() + listen.size();
  auto [port_at, port_ec] = std::from_chars(listen.data() + colon + 1, port_end, port);
  if (port_ec != std::errc() || port_at != port_end || port < 0 || port > 65535) {
    return Status::InvalidArgument("http.listen '" + listen + "': the port must be a number from 0 to 65535");
  }
  auto& srv = impl_->server;
  auto src = std::make_shared<const Sources>(std::move(sources));
  srv.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  srv.Get("/readyz", [src](const httplib::Request&, httplib::Response& res) {
    std::string why = ReadyReason(*src);
    res.status = why.empty() ? 200 : 503;
    res.set_content(why.empty() ? "ready\n" : "not ready: " + why + "\n", "text/plain");
  });
  srv.Get("/metrics", [src](const httplib::Request&, httplib::Response& res) {
    res.set_content(MetricsText(*src), "text/plain; version=0.0.4");
  });
  srv.Get("/api/status", [src](const httplib::Request&, httplib::Response& res) {
    const ingest::IngestCounts c = src->ingest();
    const lake::LakeStats l = src->lake();
    const daemon::SchedulerStats p = src->scheduler();
    std::string why = ReadyReason(*src);
    std::string j = "{\"ready\":" + std::string(why.empty() ? "true" : "false") + ",\"reason\":";
    AppendJsonString(why, &j);
    j += ",\"broker_connected\":" + std::string(src->broker_connected() ? "true" : "false") +
         ",\"received\":" + std::to_string(c.received) + ",\"accepted\":" + std::to_string(c.accepted) +
         ",\"quarantined\":" + std::to_string(c.quarantined) + ",\"quarantined_by_reason\":" + ByReason(c) +
         ",\"write_errors\":" + std::to_string(c.write_errors) +
         ",\"server_time_ms\":" + std::to_string(SystemClock::Instance().NowMs()) + ",\"lake_bytes_written\":" + std::to_string(l.bytes) +
         ",\"open_segments\":" + std::to_string(l.open_segments) +
         ",\"disk_free_bytes\":" + std::to_string(src->disk->free_bytes()) +
         ",\"disk_low\":" + (src->disk->low() ? "true" : "false") +
         ",\"lake_area_bytes\":{\"raw\":" + std::to_string(p.raw.bytes) + ",\"archive\":" +
         std::to_string(p.archive.bytes) + ",\"quarantine\":" + std::to_string(p.quarantine.bytes) +
         "},\"processor\":{\"runs\":" + std::to_string(p.runs) + ",\"failed_runs\":" + std::to_string(p.failed_runs) +
         ",\"batches\":" + std::to_string(p.batches) + ",\"rows\":" + std::to_string(p.rows) +
         ",\"readings\":" + std::to_string(p.readings) + ",\"last_run_seconds\":" + std::to_string(p.last_run_seconds) +
         ",\"run_seconds_sum\":" + std::to_string(p.run_seconds_sum) +
         ",\"last_success_ms\":" + std::to_string(p.last_success_ms) + ",\"last_error\":";
    AppendJsonString(p.last_error, &j);
    j += "}";
    if (src->fleet) {
      const daemon::FleetStats f = src->fleet();
      j += ",\"fleet\":{\"announcements\":" + std::to_string(f.announcements) +
           ",\"malformed\":" + std::to_string(f.malformed) + ",\"registered\":" + std::to_string(f.registered) +
           ",\"promoted\":" + std::to_string(f.promoted) + ",\"rejected\":" + std::to_string(f.rejected) +
           ",\"known\":" + std::to_string(f.already) + ",\"failures\":" + std::to_string(f.failures) +
           ",\"last_success_ms\":" + std::to_string(f.last_success_ms) + ",\"last_id\":";
      AppendJsonString(f.last_id, &j);
      j += ",\"state\":";
      AppendJsonString(f.state, &j);
      j += ",\"last_error\":";
      AppendJsonString(f.last_error, &j);
      j += "}";
    }
    j += "}\n";
    res.set_content(j, "application/json");
  });
  // The JSON API (http/api.h) and the dashboard's files, embedded in the binary.
  auto reply = [](httplib::Response& res, const Reply& r) {
    res.status = r.first;
    res.set_content(r.second, "application/json");
  };
  auto now = [] { return SystemClock::Instance().NowMs(); };
  srv.Get("/api/machines", [src, reply, now](const httplib::Request&, httplib::Response& res) {
    reply(res, MachinesReply(src->config, "", now()));
  });
  srv.Get(R"(/api/machines/([^/]+))", [src, reply, now](const httplib::Request& req, httplib::Response& res) {
    reply(res, MachinesReply(src->config, req.matches[1].str(), now()));
  });
  srv.Get(R"(/api/machines/([^/]+)/series)", [src, reply, now](const httplib::Request& req, httplib::Response& res) {
    reply(res, SeriesReply(src->config, req.matches[1].str(), req.get_param_value("from"), req.get_param_value("to"),
                           req.get_param_value("step"), now()));
  });
  srv.Get("/api/alerts", [src, reply](const httplib::Request& req, httplib::Response& res) {
    reply(res, AlertsReply(src->config, req.get_param_value("machine"), req.get_param_value("limit")));
  });
  srv.Get("/api/quarantine/samples", [src](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"samples\":" + QuarantineSamplesJson(src->config.data_dir, 8) + "}\n", "application/json");
  });
  for (const Asset& a : Assets()) {
    const std::string path = a.path == std::string("/index.html") ? "/" : a.path;
    srv.Get(path, [&a](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-cache");
      res.set_content(std::string(a.bytes()), ContentType(a.path));
    });
  }
  srv.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.body.empty() && req.path.rfind("/api/", 0) == 0) {
      res.set_content(JsonError("no such endpoint: " + req.path + " (see README: the JSON API)"), "application/json");
    }
  });
  srv.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(JsonError("internal error"), "application/json");
  });
  // Beyond loopback every path but /healthz and /readyz needs the token.
  std::string token;
  if (!src->config.http.token_file.empty()) {
    Result<std::string> t = ReadSecretFile("http.token_file", src->config.http.token_file);
    if (!t) return t.error();
    token = std::move(*t);
  } else if (!IsLoopback(host)) {
    return Status::InvalidArgument("http.listen " + listen + " is beyond loopback: set http.token_file to a file "
                                   "holding an access token (or listen on 127.0.0.1)");
  }
  if (token.empty()) {
    // Only reachable from this machine, but a web page could still reach it by DNS rebinding
    // (its own name resolved to 127.0.0.1): such a browser sends that name as Host.
    srv.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      if (req.path == "/healthz" || req.path == "/readyz") return httplib::Server::HandlerResponse::Unhandled;
      const std::string asked = req.get_header_value("Host");
      if (IsLoopback(HostOnly(asked))) return httplib::Server::HandlerResponse::Unhandled;
      res.status = 403;
      res.set_content(JsonError("Host '" + asked + "' is not localhost, 127.x.x.x or [::1]: without http.token_file "
                                "vigil answers only requests addressed to the loopback"),
                      "application/json");
      return httplib::Server::HandlerResponse::Handled;
    });
  } else {
    srv.set_pre_routing_handler([token](const httplib::Request& req, httplib::Response& res) {
      if (req.path == "/healthz" || req.path == "/readyz") return httplib::Server::HandlerResponse::Unhandled;
      std::string given;
      const std::string auth = req.get_header_value("Authorization");
      if (auth.rfind("Bearer ", 0) == 0) given = auth.substr(7);
      else if (req.has_param("token")) given = req.get_param_value("token");
      else given = CookieToken(req.get_header_value("Cookie"));
      if (!SameToken(given, token)) {
        res.status = 401;
        res.set_content(JsonError("access token required: send \"Authorization: Bearer TOKEN\", or open /?token=TOKEN"),
                        "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (req.has_param("token")) {
        res.set_header("Set-Cookie", "vigil_token=" + token + "; Path=/; HttpOnly; SameSite=Strict");
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
  }
  int bound = port == 0 ? srv.bind_to_any_port(bind_host) : (srv.bind_to_port(bind_host, port) ? port : -1);
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
