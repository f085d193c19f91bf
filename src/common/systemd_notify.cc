#include "common/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace vigil {

SystemdNotifier::SystemdNotifier() {
  if (const char* s = std::getenv("NOTIFY_SOCKET"); s && *s) socket_ = s;
  // WATCHDOG_PID names the process systemd watches; a child that inherited the variables
  // (or a process started by it) must not ping for it.
  const char* pid = std::getenv("WATCHDOG_PID");
  const bool ours = !pid || !*pid || std::atoll(pid) == static_cast<long long>(::getpid());
  if (const char* w = std::getenv("WATCHDOG_USEC"); w && *w && ours) {
    watchdog_every_ms_ = std::atoll(w) / 1000 / 2;
  }
}

void SystemdNotifier::Send(const std::string& message) {
  if (socket_.empty() || socket_.size() >= sizeof(sockaddr_un::sun_path)) return;
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_.data(), socket_.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_.size());
  (void)::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  ::close(fd);
}

void SystemdNotifier::Ready(const std::string& status) { Send("READY=1\nSTATUS=" + status); }
void SystemdNotifier::Status(const std::string& status) { Send("STATUS=" + status); }
void SystemdNotifier::Stopping() { Send("STOPPING=1"); }

void SystemdNotifier::WatchdogTick(int64_t now_ms) {
  if (watchdog_every_ms_ <= 0 || now_ms - last_ping_ms_ < watchdog_every_ms_) return;
  last_ping_ms_ = now_ms;
  Send("WATCHDOG=1");
}

}  // namespace vigil
