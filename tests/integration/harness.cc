#include "integration/harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mqtt/client.h>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "test_util.h"

namespace vigil::testing {

std::string VigilBinary() { return VIGIL_BINARY; }
std::string SourceDir() { return VIGIL_SOURCE_DIR; }

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

bool WaitFor(const std::function<bool()>& cond, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

Process::Process(const std::vector<std::string>& argv, const std::string& log_path) {
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "exec %s failed\n", args[0]);
    ::_exit(127);
  }
  reaped_ = false;
}

Process::Process(Process&& o) noexcept : pid_(o.pid_), status_(o.status_), reaped_(o.reaped_) {
  o.pid_ = -1;
  o.reaped_ = true;
}

Process& Process::operator=(Process&& o) noexcept {
  if (this != &o) {
    if (!reaped_ && pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = o.pid_;
    status_ = o.status_;
    reaped_ = o.reaped_;
    o.pid_ = -1;
    o.reaped_ = true;
  }
  return *this;
}

Process::~Process() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool Process::Running() {
  if (reaped_) return false;
  pid_t r = ::waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) reaped_ = true;
  return !reaped_;
}

void Process::Signal(int sig) {
  if (!reaped_) ::kill(pid_, sig);
}

int Process::Wait(int timeout_ms) {
  if (!WaitFor([&] { return !Running(); }, timeout_ms)) return -1;
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

Mosquitto::Mosquitto(const std::string& work_dir, const std::string& extra_conf)
    : dir_(work_dir + "/mosquitto"), port_(FreePort()) {
  std::filesystem::create_directories(dir_ + "/persist");
  // Started as root, mosquitto drops to the `mosquitto` user: it must reach and write its
  // persistence directory (mkdtemp made the test dir 0700).
  namespace fs = std::filesystem;
  fs::permissions(work_dir, fs::perms::group_exec | fs::perms::others_exec, fs::perm_options::add);
  fs::permissions(dir_, fs::perms::group_exec | fs::perms::others_exec, fs::perm_options::add);
  fs::permissions(dir_ + "/persist", fs::perms::all);
  std::string base = ReadFileOrDie(SourceDir() + "/config/mosquitto.conf");
  std::ofstream conf(dir_ + "/mosquitto.conf");
  conf << base << "\nlistener " << port_ << " 127.0.0.1\nallow_anonymous true\n"
       << "persistence_location " << dir_ << "/persist/\n"
       << extra_conf << "\n";
  conf.close();
  Start();
}

Mosquitto::~Mosquitto() { Stop(); }

void Mosquitto::Start() {
  if (::access("/usr/sbin/mosquitto", X_OK) != 0) {
    ADD_FAILURE() << "mosquitto is not installed (apt-get install mosquitto): integration tests need it";
    std::abort();
  }
  proc_ = Process({"/usr/sbin/mosquitto", "-c", dir_ + "/mosquitto.conf"}, log_path());
  bool up = WaitFor([&] {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port_));
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
  }, 10000);
  if (!up) {
    ADD_FAILURE() << "mosquitto did not start on port " << port_ << "; log:\n"
                  << ReadFileOrDie(log_path());
  }
}

void Mosquitto::Stop() {
  if (!proc_.Running()) return;
  proc_.Signal(SIGTERM);
  if (proc_.Wait(10000) < 0) proc_.Signal(SIGKILL), proc_.Wait(5000);
}

struct Publisher::Impl {
  mqtt::client client;
  Impl(int port, const std::string& id)
      : client("tcp://127.0.0.1:" + std::to_string(port), id, static_cast<mqtt::iclient_persistence*>(nullptr)) {}
};

Publisher::Publisher(int port, const std::string& client_id) : impl_(new Impl(port, client_id)) {
  auto opts = mqtt::connect_options_builder().clean_session(true).mqtt_version(MQTTVERSION_3_1_1).finalize();
  impl_->client.connect(opts);
}

Publisher::~Publisher() {
  try {
    impl_->client.disconnect();
  } catch (...) {
  }
  delete impl_;
}

void Publisher::Publish(const std::string& topic, const std::string& payload, int qos) {
  impl_->client.publish(mqtt::make_message(topic, payload, qos, false));
}

bool WaitSubscribed(const Mosquitto& broker, const std::string& client_id, size_t times,
                    int timeout_ms) {
  const std::string needle = client_id + " 1 industrial/machine/#";
  return WaitFor([&] {
    std::string log = ReadFileOrDie(broker.log_path());
    size_t count = 0;
    for (size_t pos = 0; (pos = log.find(needle, pos)) != std::string::npos; ++pos) ++count;
    return count >= times;
  }, timeout_ms);
}

std::pair<int, std::string> HttpGet(int port, const std::string& path, const std::string& extra_headers,
                                    std::string* head) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return {-1, ""};
  }
  const std::string host = extra_headers.rfind("Host: ", 0) == 0 ? "" : "Host: localhost\r\n";
  std::string req = "GET " + path + " HTTP/1.1\r\n" + host + "Connection: close\r\n" + extra_headers + "\r\n";
  (void)!::write(fd, req.data(), req.size());
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) resp.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (resp.size() < 12) return {-1, ""};
  size_t body = resp.find("\r\n\r\n");
  if (head) *head = resp.substr(0, body);
  return {std::atoi(resp.c_str() + 9), body == std::string::npos ? "" : resp.substr(body + 4)};
}

double MetricValue(const std::string& metrics, const std::string& name) {
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

Process StartVigil(const std::string& data_dir, int port, const std::string& client_id,
                   const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = {VigilBinary(), "run", "--data-dir", data_dir, "--host",
                                   "127.0.0.1", "--port", std::to_string(port), "--client-id",
                                   client_id};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  // Tests run in parallel: no fixed HTTP port unless a test asks for one.
  if (std::find(extra_args.begin(), extra_args.end(), "--http-listen") == extra_args.end()) {
    argv.insert(argv.end(), {"--http-listen", "off"});
  }
  return Process(argv, data_dir + ".log");
}

}  // namespace vigil::testing
