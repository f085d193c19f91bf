// Broker security with a real mosquitto: a TLS-only listener with a test CA made here with
// openssl (vigil connects with the right CA, is refused with a wrong CA or a certificate
// for another host name; a broker requiring client certificates takes vigil's), and
// password authentication without anonymous access (a user
// without the password is refused; the password from mqtt.password_file or
// VIGIL_MQTT_PASSWORD is accepted).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>

#include "integration/harness.h"
#include "test_util.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;

// The file's contents, or "" while it does not exist yet.
std::string Log(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec) ? ReadFileOrDie(path) : "";
}

void Sh(const std::string& cmd) {
  ASSERT_EQ(std::system(("set -e; " + cmd + " >/dev/null 2>&1").c_str()), 0) << cmd;
}

// A CA and a server certificate signed by it for the given subjectAltName.
void MakePki(const std::string& dir, const std::string& name, const std::string& san) {
  fs::create_directories(dir);
  Sh("cd " + dir + " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=" + name +
     "-ca -keyout " + name + "-ca.key -out " + name + "-ca.crt");
  Sh("cd " + dir + " && openssl req -newkey rsa:2048 -nodes -subj /CN=broker -keyout " + name +
     "-server.key -out " + name + "-server.csr");
  Sh("cd " + dir + " && printf 'subjectAltName=" + san + "' > " + name + ".ext && openssl x509 -req -in " + name +
     "-server.csr -CA " + name + "-ca.crt -CAkey " + name + "-ca.key -CAcreateserial -days 2 -extfile " + name +
     ".ext -out " + name + "-server.crt");
  Sh("chmod 755 " + dir + " && chmod 644 " + dir + "/*");
}

std::string TlsListener(const std::string& pki, const std::string& name) {
  return "cafile " + pki + "/" + name + "-ca.crt\ncertfile " + pki + "/" + name + "-server.crt\nkeyfile " + pki + "/" +
         name + "-server.key\n";
}

const std::string kPayload = R"({"machine_id":"M1","timestamp_utc":"2025-10-15T09:00:00Z","vibration_rms":2.5})";
const std::string kTopic = "industrial/machine/M1/telemetry/vibration";

TEST(SecurityIntegration, TlsOnlyBrokerAcceptsTheRightCaAndRefusesAWrongOneOrAnotherHostName) {
  TempDir tmp;
  const std::string pki = tmp.path() + "/pki";
  MakePki(pki, "good", "IP:127.0.0.1,DNS:localhost");
  MakePki(pki, "other", "IP:127.0.0.1");  // an unrelated CA (the "wrong CA")
  Mosquitto broker(tmp.path(), TlsListener(pki, "good"));
  // Plain MQTT to the TLS-only port is refused at the TLS layer.
  ASSERT_NE(std::system(("mosquitto_pub -h 127.0.0.1 -p " + std::to_string(broker.port()) + " -q 1 -t " + kTopic +
                         " -m x >/dev/null 2>&1").c_str()), 0);

  const std::string wrong = tmp.path() + "/wrong";
  WriteFileOrDie(tmp.path() + "/wrong.toml", "[mqtt]\nca_file = \"" + pki + "/other-ca.crt\"\n");
  Process refused = StartVigil(wrong, broker.port(), "it-12-wrong", {"--config", tmp.path() + "/wrong.toml"});
  ASSERT_TRUE(WaitFor([&] { return Log(wrong + ".log").find("cannot connect to ssl://") != std::string::npos; },
                      15000)) << Log(wrong + ".log");
  EXPECT_NE(Log(wrong + ".log").find("TLS handshake failed"), std::string::npos) << Log(wrong + ".log");

  // The right CA: connects, subscribes and writes what a TLS publisher sends.
  const std::string good = tmp.path() + "/good";
  WriteFileOrDie(tmp.path() + "/good.toml", "[mqtt]\nca_file = \"" + pki + "/good-ca.crt\"\n");
  Process vigil = StartVigil(good, broker.port(), "it-12-good", {"--config", tmp.path() + "/good.toml"});
  ASSERT_TRUE(WaitSubscribed(broker, "it-12-good")) << Log(good + ".log");
  Sh("mosquitto_pub -h 127.0.0.1 -p " + std::to_string(broker.port()) + " --cafile " + pki + "/good-ca.crt -q 1 -t " +
     kTopic + " -m '" + kPayload + "'");
  EXPECT_TRUE(WaitFor([&] { return ReadAllLines(good + "/lake").size() == 1; }, 10000)) << Log(good + ".log");
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(10000), 0);

  // The wrong-CA daemon never got a session.
  EXPECT_EQ(ReadFileOrDie(broker.log_path()).find("it-12-wrong"), std::string::npos) << ReadFileOrDie(broker.log_path());
  EXPECT_TRUE(ReadAllLines(wrong + "/lake").empty());
  refused.Signal(SIGTERM);
  EXPECT_EQ(refused.Wait(10000), 0);
}

// Mutual TLS: a broker that requires a client certificate refuses vigil without one and
// accepts it with mqtt.cert_file + mqtt.key_file signed by its CA.
TEST(SecurityIntegration, ClientCertificateBrokerNeedsVigilsCertificate) {
  TempDir tmp;
  const std::string pki = tmp.path() + "/pki";
  MakePki(pki, "good", "IP:127.0.0.1,DNS:localhost");
  Sh("cd " + pki + " && openssl req -newkey rsa:2048 -nodes -subj /CN=vigil -keyout client.key -out client.csr &&"
     " openssl x509 -req -in client.csr -CA good-ca.crt -CAkey good-ca.key -CAcreateserial -days 2 -out client.crt"
     " && chmod 644 client.*");
  Mosquitto broker(tmp.path(), TlsListener(pki, "good") + "require_certificate true\n");

  const std::string bare = tmp.path() + "/bare";
  WriteFileOrDie(tmp.path() + "/bare.toml", "[mqtt]\nca_file = \"" + pki + "/good-ca.crt\"\n");
  Process refused = StartVigil(bare, broker.port(), "it-12-nocert", {"--config", tmp.path() + "/bare.toml"});
  ASSERT_TRUE(WaitFor([&] { return Log(bare + ".log").find("cannot connect to ssl://") != std::string::npos; },
                      15000)) << Log(bare + ".log");

  const std::string data = tmp.path() + "/data";
  WriteFileOrDie(tmp.path() + "/v.toml", "[mqtt]\nca_file = \"" + pki + "/good-ca.crt\"\ncert_file = \"" + pki +
                                             "/client.crt\"\nkey_file = \"" + pki + "/client.key\"\n");
  Process vigil = StartVigil(data, broker.port(), "it-12-cert", {"--config", tmp.path() + "/v.toml"});
  ASSERT_TRUE(WaitSubscribed(broker, "it-12-cert")) << Log(data + ".log");
  Sh("mosquitto_pub -h 127.0.0.1 -p " + std::to_string(broker.port()) + " --cafile " + pki + "/good-ca.crt --cert " +
     pki + "/client.crt --key " + pki + "/client.key -q 1 -t " + kTopic + " -m '" + kPayload + "'");
  EXPECT_TRUE(WaitFor([&] { return ReadAllLines(data + "/lake").size() == 1; }, 10000)) << Log(data + ".log");
  EXPECT_EQ(ReadFileOrDie(broker.log_path()).find("it-12-nocert"), std::string::npos) << ReadFileOrDie(broker.log_path());
  for (Process* p : {&vigil, &refused}) {
    p->Signal(SIGTERM);
    EXPECT_EQ(p->Wait(10000), 0);
  }
}

TEST(SecurityIntegration, TlsHostNameIsChecked) {
  TempDir tmp;
  const std::string pki = tmp.path() + "/pki";
  MakePki(pki, "elsewhere", "DNS:broker.elsewhere.example");  // right CA, wrong host name
  Mosquitto broker(tmp.path(), TlsListener(pki, "elsewhere"));
  const std::string data = tmp.path() + "/data";
  WriteFileOrDie(tmp.path() + "/v.toml", "[mqtt]\nca_file = \"" + pki + "/elsewhere-ca.crt\"\n");
  Process vigil = StartVigil(data, broker.port(), "it-12-host", {"--config", tmp.path() + "/v.toml"});
  ASSERT_TRUE(WaitFor([&] { return Log(data + ".log").find("cannot connect to ssl://") != std::string::npos; },
                      15000)) << Log(data + ".log");
  EXPECT_EQ(ReadFileOrDie(broker.log_path()).find("it-12-host"), std::string::npos) << ReadFileOrDie(broker.log_path());
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(10000), 0);
}

TEST(SecurityIntegration, PasswordBrokerRefusesAUserWithoutThePasswordAndAcceptsFileOrEnvironment) {
  TempDir tmp;
  const std::string passwd = tmp.path() + "/passwd";
  Sh("mosquitto_passwd -c -b " + passwd + " vigil 'correct horse' && mosquitto_passwd -b " + passwd +
     " sensor 'sensor-pw' && chmod 644 " + passwd);
  Mosquitto broker(tmp.path(), "allow_anonymous false\npassword_file " + passwd + "\n");

  // The user without (or with a wrong) password: refused, and the log says why.
  const std::string none = tmp.path() + "/none";
  WriteFileOrDie(tmp.path() + "/none.toml", "[mqtt]\nusername = \"vigil\"\n");
  Process refused = StartVigil(none, broker.port(), "it-12-nopw", {"--config", tmp.path() + "/none.toml"});
  ASSERT_TRUE(WaitFor([&] {
    const std::string log = Log(none + ".log");
    return log.find("cannot connect") != std::string::npos;
  }, 15000)) << Log(none + ".log");
  // mosquitto 2 answers a missing password with "not authorized" (5), a wrong one with 4 or 5.
  EXPECT_NE(Log(none + ".log").find("check mqtt.username"), std::string::npos) << Log(none + ".log");
  refused.Signal(SIGTERM);
  EXPECT_EQ(refused.Wait(10000), 0);

  // The password from mqtt.password_file.
  WriteFileOrDie(tmp.path() + "/vigil.pw", "correct horse\n");
  const std::string viafile = tmp.path() + "/file";
  WriteFileOrDie(tmp.path() + "/file.toml", "[mqtt]\nusername = \"vigil\"\npassword_file = \"" + tmp.path() + "/vigil.pw\"\n");
  Process vigil = StartVigil(viafile, broker.port(), "it-12-file", {"--config", tmp.path() + "/file.toml"});
  ASSERT_TRUE(WaitSubscribed(broker, "it-12-file")) << Log(viafile + ".log");
  Sh("mosquitto_pub -h 127.0.0.1 -p " + std::to_string(broker.port()) + " -u sensor -P sensor-pw -q 1 -t " + kTopic +
     " -m '" + kPayload + "'");
  EXPECT_TRUE(WaitFor([&] { return ReadAllLines(viafile + "/lake").size() == 1; }, 10000)) << Log(viafile + ".log");
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(10000), 0);
  EXPECT_EQ(Log(viafile + ".log").find("correct horse"), std::string::npos) << "the password is never logged";

  // VIGIL_MQTT_PASSWORD (inherited by the child) wins over a wrong file.
  WriteFileOrDie(tmp.path() + "/wrong.pw", "not it\n");
  WriteFileOrDie(tmp.path() + "/env.toml", "[mqtt]\nusername = \"vigil\"\npassword_file = \"" + tmp.path() + "/wrong.pw\"\n");
  ::setenv("VIGIL_MQTT_PASSWORD", "correct horse", 1);
  Process viaenv = StartVigil(tmp.path() + "/env", broker.port(), "it-12-env", {"--config", tmp.path() + "/env.toml"});
  ::unsetenv("VIGIL_MQTT_PASSWORD");
  EXPECT_TRUE(WaitSubscribed(broker, "it-12-env")) << Log(tmp.path() + "/env.log");
  viaenv.Signal(SIGTERM);
  EXPECT_EQ(viaenv.Wait(10000), 0);
}

}  // namespace
}  // namespace vigil::testing
