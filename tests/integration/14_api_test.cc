// The JSON API behind the dashboard, every endpoint with good and bad parameters, and the
// access token beyond loopback. The data: a small history imported with `vigil import`
// and processed with `vigil process`; `vigil run` serves it (no broker needed for reads).
#include <gtest/gtest.h>
#include <signal.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "integration/harness.h"
#include "test_util.h"

namespace vigil::testing {
namespace {

int Shell(const std::string& cmd) { return WEXITSTATUS(std::system((cmd + " >/dev/null 2>&1").c_str())); }

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = tmp_.path() + "/data";
    // M1: vibration 1, 3, 5, 7 at 00:00:00..03 and a failure at 00:00:02.5; M2: one reading.
    WriteFileOrDie(tmp_.path() + "/long.csv",
                   "machine_id,timestamp_utc,sensor,value\n"
                   "M1,2025-10-15T00:00:00Z,vibration,1\nM1,2025-10-15T00:00:01Z,vibration,3\n"
                   "M1,2025-10-15T00:00:02Z,vibration,5\nM1,2025-10-15T00:00:03Z,vibration,12\n"
                   "M1,2025-10-15T00:00:01Z,temperature,50\nM2,2025-10-16T00:00:00Z,vibration,2\n");
    WriteFileOrDie(tmp_.path() + "/fail.csv", "machine_id,timestamp_utc,codigo_evento\nM1,2025-10-15T00:00:02.500Z,F1\n");
    const std::string v = VigilBinary() + " ";
    ASSERT_EQ(Shell(v + "import --data-dir " + data_ + " --format long " + tmp_.path() + "/long.csv"), 0);
    ASSERT_EQ(Shell(v + "import --data-dir " + data_ + " --format failures " + tmp_.path() + "/fail.csv"), 0);
    ASSERT_EQ(Shell(v + "process --data-dir " + data_), 0);
  }

  // vigil run against a port where no broker listens: the API reads vigil.db regardless.
  Process Serve(int http, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--http-listen", "127.0.0.1:" + std::to_string(http)};
    args.insert(args.end(), extra.begin(), extra.end());
    Process p = StartVigil(data_, FreePort(), "it-14", args);
    EXPECT_TRUE(WaitFor([&] { return HttpGet(http, "/healthz").first == 200; }, 10000)) << ReadFileOrDie(data_ + ".log");
    return p;
  }

  TempDir tmp_;
  std::string data_;
};

TEST_F(ApiTest, EveryEndpointAnswersAndBadParametersGetClear400s) {
  const int http = FreePort();
  Process vigil = Serve(http);

  auto [code, body] = HttpGet(http, "/api/machines");
  EXPECT_EQ(code, 200);
  EXPECT_NE(body.find(R"("machine_id":"M1","newest_window":"2025-10-15T00:00:03.000Z","latest":{"vibration_rms":12)"),
            std::string::npos) << body;
  EXPECT_NE(body.find(R"("iso10816_zone":"critical","last_failure":"2025-10-15T00:00:02.500Z")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("machine_id":"M2")"), std::string::npos) << body;
  // Which sensor each column belongs to: the dashboard finds its charts by it.
  EXPECT_NE(body.find(R"("columns":{"vibration_rms":{"sensor":"vibration","kind":"value"},)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("vib_mean_5h":{"sensor":"vibration","kind":"feature"})"), std::string::npos) << body;
  EXPECT_EQ(HttpGet(http, "/api/machines/M2").first, 200);
  EXPECT_EQ(HttpGet(http, "/api/machines/NOPE").first, 404);
  EXPECT_EQ(HttpGet(http, "/api/machines/bad%24id").first, 400);

  // Series: 1 s steps give the window values; 2 s steps average pairs of windows.
  const std::string from = "2025-10-15T00:00:00Z", to = "2025-10-15T00:00:04Z";
  std::tie(code, body) = HttpGet(http, "/api/machines/M1/series?from=" + from + "&to=" + to + "&step=1s");
  EXPECT_EQ(code, 200) << body;
  EXPECT_NE(body.find(R"("step_ms":1000,"t":[1760486400000,1760486401000,1760486402000,1760486403000])"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("vibration_rms":[1,3,5,12])"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("temperature_celsius":[null,50,null,null])"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("failures":[{"t":1760486402500,"code":"F1"}])"), std::string::npos) << body;
  // The series' alerts are /api/alerts' items (value and timestamp_utc included).
  EXPECT_NE(body.find(R"("alerts":[{"machine_id":"M1","timestamp_utc":"2025-10-15T00:00:03.000Z","kind":"iso_zone",)"
                      R"("level":"critical","value":12,"message":"ISO 10816 zone critical: vibration 12 mm/s > 11.2",)"
                      R"("rul_hours":null,"ts_ms":1760486403000}]})"), std::string::npos) << body;
  std::tie(code, body) = HttpGet(http, "/api/machines/M1/series?from=1760486400000&to=1760486404000&step=2000");
  EXPECT_EQ(code, 200) << body;
  EXPECT_NE(body.find(R"("vibration_rms":[2,8.5])"), std::string::npos) << body;
  // Default step: about 1000 points over the range.
  std::tie(code, body) = HttpGet(http, "/api/machines/M1/series?from=" + from + "&to=2025-10-22T00:00:00Z");
  EXPECT_EQ(code, 200);
  EXPECT_NE(body.find(R"("step_ms":605000)"), std::string::npos) << body;

  for (const std::string bad : {"from=abc", "from=2025-10-16T00:00:00Z&to=2025-10-15T00:00:00Z", "step=0",
                                "step=-5", "step=fast", "from=0&to=86400000000&step=1", "from=5000&to=1000",
                                "from=1000&to=1000", "from=-9223372036854775808&to=9223372036854775807",
                                "from=-1&to=1000", "from=0&to=253402300800000", "to=0",
                                "from=0&to=253402300799999&step=9223372036854775807x"}) {
    std::tie(code, body) = HttpGet(http, "/api/machines/M1/series?" + bad);
    EXPECT_EQ(code, 400) << bad;
    EXPECT_EQ(body.rfind("{\"error\":", 0), 0u) << bad << ": " << body;
  }
  EXPECT_NE(HttpGet(http, "/api/machines/M1/series?from=0&to=86400000000&step=1").second.find("too many points"),
            std::string::npos);
  EXPECT_NE(HttpGet(http, "/api/machines/M1/series?from=5000&to=1000").second.find("from (5000) must be before to (1000)"),
            std::string::npos);
  EXPECT_NE(HttpGet(http, "/api/machines/M1/series?from=-9223372036854775808&to=9223372036854775807")
                .second.find("outside 1970-01-01 .. 9999-12-31"), std::string::npos);
  // The widest range with the largest step: one bucket, no overflow.
  std::tie(code, body) = HttpGet(http, "/api/machines/M1/series?from=0&to=253402300799999&step=9223372036854775807");
  EXPECT_EQ(code, 200) << body;
  EXPECT_NE(body.find(R"("t":[0],"series":{)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("vibration_rms":[5.25])"), std::string::npos) << body;
  // An unknown machine is a 404 like /api/machines/{id}, not an empty chart.
  std::tie(code, body) = HttpGet(http, "/api/machines/NOPE/series");
  EXPECT_EQ(code, 404);
  EXPECT_EQ(body, "{\"error\":\"no machine 'NOPE' in the feature store\"}\n");

  std::tie(code, body) = HttpGet(http, "/api/alerts");
  EXPECT_EQ(code, 200);
  // vigil process scored M1's newest window (12 mm/s): one zone alert.
  // The fields of the MQTT alert message, and ts_ms.
  EXPECT_EQ(body, R"({"alerts":[{"machine_id":"M1","timestamp_utc":"2025-10-15T00:00:03.000Z","kind":"iso_zone",)"
                  R"("level":"critical","value":12,"message":"ISO 10816 zone critical: vibration 12 mm/s > 11.2",)"
                  R"("rul_hours":null,"ts_ms":1760486403000}]})" "\n");
  EXPECT_EQ(HttpGet(http, "/api/alerts?machine=M2").second, "{\"alerts\":[]}\n");
  EXPECT_EQ(HttpGet(http, "/api/alerts?limit=0").first, 400);
  EXPECT_EQ(HttpGet(http, "/api/alerts?limit=abc").first, 400);
  EXPECT_EQ(HttpGet(http, "/api/alerts?machine=M1&limit=5").first, 200);

  std::tie(code, body) = HttpGet(http, "/api/status");
  EXPECT_EQ(code, 200);
  EXPECT_NE(body.find(R"("ready":false,"reason":"not connected to the broker")"), std::string::npos) << body;
  EXPECT_EQ(HttpGet(http, "/api/quarantine/samples").second, "{\"samples\":[]}\n");
  std::tie(code, body) = HttpGet(http, "/api/nothing-here");
  EXPECT_EQ(code, 404);
  EXPECT_NE(body.find("no such endpoint"), std::string::npos);

  std::tie(code, body) = HttpGet(http, "/");
  EXPECT_EQ(code, 200);
  EXPECT_NE(body.find("<title>vigil"), std::string::npos);
  EXPECT_EQ(HttpGet(http, "/app.js").first, 200);
  EXPECT_EQ(HttpGet(http, "/vendor/uPlot.iife.min.js").first, 200);
  EXPECT_EQ(HttpGet(http, "/healthz").first, 200);
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(10000), 0) << "never a crash on bad parameters";
}

TEST_F(ApiTest, SeriesFillsEmptyBucketsWithNullsSoChartsShowGaps) {
  // M3: readings at 0..9 s and 100..109 s, nothing between.
  std::string csv = "machine_id,timestamp_utc,sensor,value\n";
  for (int s : {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
    csv += "M3,2025-10-17T00:00:0" + std::to_string(s) + "Z,vibration,2\n";
    csv += "M3,2025-10-17T00:01:4" + std::to_string(s) + "Z,vibration,4\n";
  }
  WriteFileOrDie(tmp_.path() + "/gap.csv", csv);
  const std::string v = VigilBinary() + " ";
  ASSERT_EQ(Shell(v + "import --data-dir " + data_ + " --format long " + tmp_.path() + "/gap.csv"), 0);
  ASSERT_EQ(Shell(v + "process --data-dir " + data_), 0);
  const int http = FreePort();
  Process vigil = Serve(http);
  auto [code, body] = HttpGet(http, "/api/machines/M3/series?from=2025-10-17T00:00:00Z&to=2025-10-17T00:01:50Z&step=5s");
  EXPECT_EQ(code, 200) << body;
  std::string t = "\"t\":[", vib = "\"vibration_rms\":[2,2,";
  for (int i = 0; i < 22; ++i) t += (i ? "," : "") + std::to_string(1760659200000 + i * 5000);
  for (int i = 2; i < 20; ++i) vib += "null,";
  EXPECT_NE(body.find(t + "]"), std::string::npos) << body;
  EXPECT_NE(body.find(vib + "4,4]"), std::string::npos) << body;
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(10000), 0);
}

TEST_F(ApiTest, QuarantineSamplesShowTheNewestBadMessageWithItsReason) {
  Mosquitto broker(tmp_.path());
  const int http = FreePort();
  Process vigil = StartVigil(data_, broker.port(), "it-14-q", {"--http-listen", "127.0.0.1:" + std::to_string(http)});
  ASSERT_TRUE(WaitSubscribed(broker, "it-14-q")) << ReadFileOrDie(data_ + ".log");
  Publisher(broker.port(), "pub-14").Publish("industrial/machine/M1/telemetry/vibration", "{broken-14");
  std::string body;
  ASSERT_TRUE(WaitFor([&] {
    body = HttpGet(http, "/api/quarantine/samples").second;
    return body != "{\"samples\":[]}\n";
  }, 10000)) << body;
  // Each sample is the quarantined line as a JSON string: its reason and the payload.
  EXPECT_EQ(body.rfind("{\"samples\":[\"", 0), 0u) << body;
  EXPECT_NE(body.find(R"(\"reason\":\"bad_json\")"), std::string::npos) << body;
  EXPECT_NE(body.find("broken-14"), std::string::npos) << body;
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(10000), 0);
}

TEST_F(ApiTest, WithoutATokenOnlyLoopbackHostsAreAnswered) {
  const int http = FreePort();
  Process vigil = Serve(http);
  const std::string p = std::to_string(http);
  for (const std::string& host : std::vector<std::string>{"localhost", "localhost:" + p, "127.0.0.1:" + p, "127.1.2.3", "[::1]:" + p, "[::1]"}) {
    EXPECT_EQ(HttpGet(http, "/api/machines", "Host: " + host + "\r\n").first, 200) << host;
  }
  // A page on evil.example whose name now resolves to 127.0.0.1 (DNS rebinding).
  for (const std::string& host : std::vector<std::string>{"evil.example:" + p, "evil.example", "127.evil.example", "localhost.evil.example", ""}) {
    auto [code, body] = HttpGet(http, "/api/machines", "Host: " + host + "\r\n");
    EXPECT_EQ(code, 403) << host;
    EXPECT_NE(body.find("is not localhost, 127.x.x.x or [::1]"), std::string::npos) << host << ": " << body;
  }
  EXPECT_EQ(HttpGet(http, "/", "Host: evil.example\r\n").first, 403);
  EXPECT_EQ(HttpGet(http, "/healthz", "Host: evil.example\r\n").first, 200);  // liveness probes by any name
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(10000), 0);
}

TEST_F(ApiTest, ListenAddressesAreParsedStrictly) {
  // IPv6 loopback in brackets: httplib gets the address without them.
  const int http = FreePort();
  Process v6 = StartVigil(data_, FreePort(), "it-14-v6", {"--http-listen", "[::1]:" + std::to_string(http)});
  const std::string log = data_ + ".log";
  EXPECT_TRUE(WaitFor([&] { return access(log.c_str(), R_OK) == 0 && ReadFileOrDie(log).find("HTTP on [::1]:") != std::string::npos; }, 10000))
      << ReadFileOrDie(data_ + ".log");
  EXPECT_TRUE(v6.Running()) << ReadFileOrDie(data_ + ".log");
  v6.Signal(SIGTERM);
  EXPECT_EQ(v6.Wait(10000), 0);
  for (const std::string bad : {"127.0.0.1:http", "127.0.0.1:80x", "127.0.0.1:", "127.0.0.1:70000"}) {
    Process p = StartVigil(data_, FreePort(), "it-14-port", {"--http-listen", bad});
    EXPECT_EQ(p.Wait(10000), 2) << bad;
    EXPECT_NE(ReadFileOrDie(data_ + ".log").find("http.listen '" + bad + "': the port must be a number from 0 to 65535"),
              std::string::npos) << bad << ": " << ReadFileOrDie(data_ + ".log");
  }
}

TEST_F(ApiTest, BeyondLoopbackATokenIsRequired) {
  // Without a token file vigil refuses to listen on every interface.
  Process refused = StartVigil(data_, FreePort(), "it-14-open", {"--http-listen", "0.0.0.0:" + std::to_string(FreePort())});
  EXPECT_EQ(refused.Wait(10000), 2);
  EXPECT_NE(ReadFileOrDie(data_ + ".log").find("set http.token_file"), std::string::npos) << ReadFileOrDie(data_ + ".log");

  WriteFileOrDie(tmp_.path() + "/token", "s3cr3t-t0ken\n");
  WriteFileOrDie(tmp_.path() + "/v.toml", "[http]\ntoken_file = \"" + tmp_.path() + "/token\"\n");
  const int http = FreePort();
  Process vigil = StartVigil(data_, FreePort(), "it-14-token",
                             {"--config", tmp_.path() + "/v.toml", "--http-listen", "0.0.0.0:" + std::to_string(http)});
  ASSERT_TRUE(WaitFor([&] { return HttpGet(http, "/healthz").first == 200; }, 10000)) << ReadFileOrDie(data_ + ".log");
  EXPECT_EQ(HttpGet(http, "/readyz").first, 503);  // open, like /healthz (no broker here)
  for (const char* path : {"/api/machines", "/api/status", "/metrics", "/", "/api/alerts"}) {
    auto [code, body] = HttpGet(http, path);
    EXPECT_EQ(code, 401) << path;
    EXPECT_NE(body.find("access token required"), std::string::npos) << path;
  }
  EXPECT_EQ(HttpGet(http, "/api/machines", "Authorization: Bearer wrong\r\n").first, 401);
  EXPECT_EQ(HttpGet(http, "/api/machines", "Authorization: Bearer s3cr3t-t0ken\r\n").first, 200);
  EXPECT_EQ(HttpGet(http, "/metrics", "Authorization: Bearer s3cr3t-t0ken\r\n").first, 200);
  // A browser opens /?token=... once and then goes on with the cookie.
  std::string head;
  EXPECT_EQ(HttpGet(http, "/?token=s3cr3t-t0ken", "", &head).first, 200);
  EXPECT_NE(head.find("Set-Cookie: vigil_token=s3cr3t-t0ken; Path=/; HttpOnly; SameSite=Strict"), std::string::npos) << head;
  EXPECT_EQ(HttpGet(http, "/api/machines", "Cookie: a=b; vigil_token=s3cr3t-t0ken\r\n").first, 200);
  EXPECT_EQ(HttpGet(http, "/api/machines", "Cookie: vigil_token=s3cr3t\r\n").first, 401);
  EXPECT_EQ(HttpGet(http, "/api/machines", "Cookie: vigil_token=s3cr3t-t0ken\r\n").first, 200);
  // Only the cookie named exactly vigil_token counts.
  EXPECT_EQ(HttpGet(http, "/api/machines", "Cookie: xvigil_token=s3cr3t-t0ken\r\n").first, 401);
  EXPECT_EQ(HttpGet(http, "/api/machines", "Cookie: a=1; my_vigil_token=s3cr3t-t0ken\r\n").first, 401);
  // Beyond loopback the token is the protection, whatever the Host.
  EXPECT_EQ(HttpGet(http, "/api/machines", "Host: vigil.plant.example\r\nAuthorization: Bearer s3cr3t-t0ken\r\n").first, 200);
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(10000), 0);
}

}  // namespace
}  // namespace vigil::testing
