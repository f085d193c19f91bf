// vigil run speaks systemd's notify protocol: READY=1, STATUS=..., WATCHDOG=1 at half of
// WATCHDOG_USEC, STOPPING=1 at SIGTERM, to a NOTIFY_SOCKET made by the test.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "integration/harness.h"
#include "test_util.h"

namespace vigil::testing {
namespace {

// A datagram socket at dir/notify.sock, and what arrives on it.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& dir) : path_(dir + "/notify.sock") {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{0, 100'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() { ::close(fd_); }
  const std::string& path() const { return path_; }
  // Everything received in about ms milliseconds, appended to all().
  void Drain(int ms) {
    for (int waited = 0; waited < ms; waited += 100) {
      char buf[512];
      ssize_t n;
      while ((n = ::recv(fd_, buf, sizeof buf, 0)) > 0) all_ += std::string(buf, n) + "\n";
    }
  }
  const std::string& all() const { return all_; }
  size_t Pings() const {
    size_t pings = 0;
    for (size_t p = 0; (p = all_.find("WATCHDOG=1", p)) != std::string::npos; ++p) ++pings;
    return pings;
  }

 private:
  std::string path_, all_;
  int fd_ = -1;
};

TEST(SystemdNotifyIntegration, ReadyStatusWatchdogStopping) {
  TempDir tmp;
  Mosquitto broker(tmp.path());
  NotifySocket sock(tmp.path());
  ::setenv("NOTIFY_SOCKET", sock.path().c_str(), 1);
  ::setenv("WATCHDOG_USEC", "400000", 1);  // a ping every 200 ms
  Process vigil = StartVigil(tmp.path() + "/data", broker.port(), "it-10");
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");

  sock.Drain(1500);
  EXPECT_NE(sock.all().find("READY=1"), std::string::npos) << sock.all();
  EXPECT_NE(sock.all().find("STATUS="), std::string::npos) << sock.all();
  EXPECT_GE(sock.Pings(), 3u) << sock.all();
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(10000), 0);
  sock.Drain(300);
  EXPECT_NE(sock.all().find("STOPPING=1"), std::string::npos) << sock.all();
}

// WATCHDOG_PID names another process (vigil inherited systemd's variables): no pings.
TEST(SystemdNotifyIntegration, NoWatchdogPingsForAnotherPid) {
  TempDir tmp;
  Mosquitto broker(tmp.path());
  NotifySocket sock(tmp.path());
  ::setenv("NOTIFY_SOCKET", sock.path().c_str(), 1);
  ::setenv("WATCHDOG_USEC", "400000", 1);
  ::setenv("WATCHDOG_PID", "1", 1);
  Process vigil = StartVigil(tmp.path() + "/data", broker.port(), "it-10b");
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");

  sock.Drain(1000);
  EXPECT_NE(sock.all().find("READY=1"), std::string::npos) << sock.all();
  EXPECT_EQ(sock.Pings(), 0u) << sock.all();
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(10000), 0);
}

}  // namespace
}  // namespace vigil::testing
