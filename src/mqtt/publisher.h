// Folder src/mqtt/: the MQTT publishing client. Calls src/common/ only.
//
// MqttPublisher: vigil's one MQTT publishing client, used by the simulator and replay
// (the simulator, through sim::MqttPublisher) and by the prediction/alert outbox (model).
// With ingest/mqtt_subscriber.cc, the only code that includes <mqtt/...>; Paho exceptions
// are caught here and become Status values. May call src/common/ only.
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
#include <cstdint>
#include <memory>
#include <string>

#include "vigil/clock.h"
#include "vigil/config.h"
#include "vigil/status.h"

// Not "mqtt": that is Paho's namespace, and vigil::mqtt would hide it inside vigil.
namespace vigil::publish {

struct Message {
  std::string topic;
  std::string payload;
  bool retained = false;  // the broker keeps it for later subscribers
};

struct PublisherOptions {
  MqttConfig mqtt;              // host, port, TLS, credentials, keepalive, reconnect
  std::string client_id;        // must differ from the daemon's
  int qos = 1;
  int max_in_flight = 1000;
  int64_t flush_timeout_ms = 60'000;  // Flush() gives up after this long without progress
  std::string logger = "sim";         // the log channel (common/logging.h)
};

class MqttPublisher {
 public:
  MqttPublisher(PublisherOptions options, Clock& clock, const std::atomic<bool>& stop);
  ~MqttPublisher();

  // The first connection; retries with backoff until it succeeds, stop is set, or
  // timeout_ms passed (kUnavailable).
  Status Connect(int64_t timeout_ms);
  // Queues one message; may block while too many are unacknowledged. An error means the
  // message was not queued (stop requested while blocked, or a fatal broker error).
  Status Publish(const std::string& topic, const std::string& payload, bool retained);
  Status Publish(const Message& m) { return Publish(m.topic, m.payload, m.retained); }
  // Waits until every queued message is acknowledged.
  Status Flush();
  // Disconnects after Flush(); safe to call twice.
  void Disconnect();

  uint64_t acknowledged() const;
  uint64_t retried() const;
  uint64_t reconnects() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::publish
