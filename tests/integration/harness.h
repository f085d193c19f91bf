// Integration harness: a real mosquitto on a free loopback port (configured from the
// project's config/mosquitto.conf), child processes (the real vigil binary), and waiting.
// Fails the test loudly when mosquitto is not installed: never skips.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace vigil::testing {

std::string VigilBinary();     // the vigil built with these tests
std::string SourceDir();       // the project root
int FreePort();                // a currently free TCP port on 127.0.0.1

// Polls cond every 20 ms until it holds or timeout_ms passed; returns the last result.
bool WaitFor(const std::function<bool()>& cond, int timeout_ms);

// A child process with stdout+stderr appended to log_path.
class Process {
 public:
  Process() = default;
  Process(const std::vector<std::string>& argv, const std::string& log_path);
  Process(Process&& o) noexcept;
  Process& operator=(Process&& o) noexcept;
  ~Process();  // SIGKILLs the child if still running

  pid_t pid() const { return pid_; }
  bool Running();
  void Signal(int sig);
  // Waits for exit; returns the exit code, 128+signal if killed, -1 on timeout.
  int Wait(int timeout_ms);

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = true;
};

// mosquitto with the project's loss-free settings, on 127.0.0.1:port(), persistence in
// its own directory. Stop() + Start() is a broker restart that keeps queued messages.
class Mosquitto {
 public:
  explicit Mosquitto(const std::string& work_dir, const std::string& extra_conf = "");
  ~Mosquitto();
  int port() const { return port_; }
  void Start();  // waits until it accepts connections
  void Stop();   // SIGTERM: saves its persistence file
  std::string log_path() const { return dir_ + "/mosquitto.log"; }

 private:
  std::string dir_;
  int port_;
  Process proc_;
};

// Publishes messages with Paho at QoS 1 (waits for every PUBACK). Not thread-safe.
class Publisher {
 public:
  Publisher(int port, const std::string& client_id);
  ~Publisher();
  // Throws std::runtime_error when the broker does not acknowledge.
  void Publish(const std::string& topic, const std::string& payload, int qos = 1);

 private:
  struct Impl;
  Impl* impl_;
};

// Waits until the broker has logged client_id's subscription `times` times (once per
// (re)connect of vigil); mosquitto logs it when the SUBSCRIBE arrives.
bool WaitSubscribed(const Mosquitto& broker, const std::string& client_id, size_t times = 1,
                    int timeout_ms = 10000);

// GET path from 127.0.0.1:port: {status, body}, or {-1, ""} when nothing answers.
// extra_headers: "Name: value\r\n" lines (starting with "Host: " replaces the default Host:
// localhost); *head (if given) receives the response head.
std::pair<int, std::string> HttpGet(int port, const std::string& path, const std::string& extra_headers = "",
                                    std::string* head = nullptr);
// The value of the sample `name` (with its labels, if any) in Prometheus text; -1 if absent.
double MetricValue(const std::string& metrics, const std::string& name);

// vigil run with the given data dir against port; log in <data_dir>.log.
Process StartVigil(const std::string& data_dir, int port, const std::string& client_id,
                   const std::vector<std::string>& extra_args = {});

}  // namespace vigil::testing
