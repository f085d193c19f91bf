// vigil run's HTTP endpoints: /metrics is well-formed Prometheus text whose counters match
// what the test published; /readyz follows the broker connection.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <sstream>

#include "common/timestamp.h"
#include "integration/harness.h"
#include "test_util.h"
#include "vigil/clock.h"

namespace vigil::testing {
namespace {

// GET path from 127.0.0.1:port; returns {status, body} or {-1, ""}.
std::pair<int, std::string> Get(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return {-1, ""};
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  (void)::write(fd, req.data(), req.size());
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) resp.append(buf, n);
  ::close(fd);
  if (resp.size() < 12) return {-1, ""};
  size_t body = resp.find("\r\n\r\n");
  return {std::atoi(resp.c_str() + 9), body == std::string::npos ? "" : resp.substr(body + 4)};
}

double Value(const std::string& metrics, const std::string& name) {
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

TEST(HttpIntegration, MetricsMatchWhatWasPublishedAndReadyzFollowsTheBroker) {
  TempDir tmp;
  Mosquitto broker(tmp.path());
  const int http_port = FreePort();
  std::string data = tmp.path() + "/data";
  Process vigil = StartVigil(data, broker.port(), "it-11", {"--http-listen", "127.0.0.1:" + std::to_string(http_port)});
  ASSERT_TRUE(WaitSubscribed(broker, "it-11"));
  ASSERT_TRUE(WaitFor([&] { return Get(http_port, "/healthz").first == 200; }, 5000));
  ASSERT_TRUE(WaitFor([&] { return Get(http_port, "/readyz").first == 200; }, 5000));
  {
    Publisher pub(broker.port(), "pub-11");
    const std::string ts = FormatTimestampMs(SystemClock::Instance().NowMs());
    for (int i = 0; i < 7; ++i) {
      pub.Publish("industrial/machine/M1/telemetry/vibration",
                  R"({"machine_id":"M1","timestamp_utc":")" + ts + R"(","vibration_rms":1})");
    }
    for (int i = 0; i < 3; ++i) pub.Publish("industrial/machine/M1/telemetry/vibration", "not json");
  }
  std::string metrics;
  ASSERT_TRUE(WaitFor([&] {
    metrics = Get(http_port, "/metrics").second;
    return Value(metrics, "vigil_messages_received_total") == 10;
  }, 10000)) << metrics;
  // Well-formed exposition: HELP/TYPE comments, then name{labels} value.
  static const std::regex kSample(R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? -?[0-9.eE+-]+$)");
  std::istringstream in(metrics);
  int samples = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
    EXPECT_TRUE(std::regex_match(line, kSample)) << line;
    ++samples;
  }
  EXPECT_GT(samples, 15);
  EXPECT_EQ(Value(metrics, "vigil_messages_accepted_total"), 7);
  EXPECT_EQ(Value(metrics, "vigil_messages_quarantined_total{reason=\"bad_json\"}"), 3);
  EXPECT_EQ(Value(metrics, "vigil_broker_connected"), 1);
  EXPECT_GT(Value(metrics, "vigil_disk_free_bytes"), 0);
  EXPECT_NE(Get(http_port, "/api/status").second.find("\"accepted\":7"), std::string::npos);

  broker.Stop();
  EXPECT_TRUE(WaitFor([&] { return Get(http_port, "/readyz").first == 503; }, 10000));
  EXPECT_NE(Get(http_port, "/readyz").second.find("broker"), std::string::npos);
  broker.Start();
  EXPECT_TRUE(WaitFor([&] { return Get(http_port, "/readyz").first == 200; }, 30000));
  EXPECT_EQ(Value(Get(http_port, "/metrics").second, "vigil_broker_reconnects_total"), 1);
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(15000), 0);
}

}  // namespace
}  // namespace vigil::testing
