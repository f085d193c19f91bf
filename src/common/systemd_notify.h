// SystemdNotifier: the sd_notify(3) protocol spoken directly (a datagram to
// $NOTIFY_SOCKET), so vigil needs no libsystemd. A no-op when NOTIFY_SOCKET is unset
// (not started by systemd with Type=notify). Ready/Status/Stopping once, Watchdog from the
// main loop: it pings when half of $WATCHDOG_USEC has passed (on MonotonicMs(), which NTP
// cannot step), and only if $WATCHDOG_PID, when set, is this process. Errors are ignored:
// systemd being unreachable must not stop ingest. Main thread only.
#pragma once

#include <cstdint>
#include <string>

namespace vigil {

class SystemdNotifier {
 public:
  SystemdNotifier();  // reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID
  bool enabled() const { return !socket_.empty(); }
  void Ready(const std::string& status);
  void Status(const std::string& status);
  void Stopping();
  void WatchdogTick(int64_t mono_ms);  // sends WATCHDOG=1 when due; mono_ms: MonotonicMs()

 private:
  void Send(const std::string& message);
  std::string socket_;
  int64_t watchdog_every_ms_ = 0;
  int64_t last_ping_ms_ = 0;
};

}  // namespace vigil
