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

TEST(SystemdNotifyIntegration, ReadyStatusWatchdogStopping) {
  TempDir tmp;
  Mosquitto broker(tmp.path());
  const std::string path = tmp.path() + "/notify.sock";
  int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval tv{0, 100'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  ::setenv("WATCHDOG_USEC", "400000", 1);  // a ping every 200 ms
  Process vigil = StartVigil(tmp.path() + "/data", broker.port(), "it-10");
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");

  std::string all;
  auto drain = [&](int ms) {
    for (int waited = 0; waited < ms; waited += 100) {
      char buf[512];
      ssize_t n;
      while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) all += std::string(buf, n) + "\n";
    }
  };
  drain(1500);
  EXPECT_NE(all.find("READY=1"), std::string::npos) << all;
  EXPECT_NE(all.find("STATUS="), std::string::npos) << all;
  size_t pings = 0;
  for (size_t p = 0; (p = all.find("WATCHDOG=1", p)) != std::string::npos; ++p) ++pings;
  EXPECT_GE(pings, 3u) << all;
  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.Wait(10000), 0);
  drain(300);
  EXPECT_NE(all.find("STOPPING=1"), std::string::npos) << all;
  ::close(fd);
}

}  // namespace
}  // namespace vigil::testing
