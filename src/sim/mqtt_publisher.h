// MqttPublisher: the simulator's broker side (the only file of src/sim that includes
// <mqtt/...>; Paho exceptions are caught here and become Status values).
//
// Paho's async client with a bounded window: Publish() blocks while max_in_flight messages
// are unacknowledged, so a backfill runs as fast as the broker acknowledges without
// unbounded memory. Each message has a delivery listener: success frees a window slot,
// failure puts the message back in a retry queue that Publish()/Flush() resend first
// (at-least-once: the processor removes duplicates). Lost connections are reconnected by
// Paho (automatic reconnect with backoff); meanwhile messages are buffered by Paho
// (send_while_disconnected) up to the window, and in-flight ones are resent by Paho on
// reconnect (clean_session off).
//
// Threads: Connect/Publish/Flush/Disconnect on one caller thread; the listeners run on
// Paho's thread and share only atomics and the retry queue (guarded by mu_).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "sim/runner.h"
#include "vigil/clock.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::sim {

struct PublisherOptions {
  MqttConfig mqtt;              // host, port, TLS, credentials, keepalive, reconnect
  std::string client_id;        // must differ from the daemon's
  int qos = 1;
  int max_in_flight = 1000;
  int64_t flush_timeout_ms = 60'000;  // Flush() gives up after this long without progress
};

class MqttPublisher final : public Publisher {
 public:
  MqttPublisher(PublisherOptions options, Clock& clock, const std::atomic<bool>& stop);
  ~MqttPublisher() override;

  // The first connection; retries with backoff until it succeeds, stop is set, or
  // timeout_ms passed (kUnavailable).
  Status Connect(int64_t timeout_ms);
  Status Publish(const OutMessage& m) override;
  Status Flush() override;
  // Disconnects after Flush(); safe to call twice.
  void Disconnect();

  uint64_t acknowledged() const;
  uint64_t retried() const;
  uint64_t reconnects() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::sim
