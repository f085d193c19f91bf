// MqttSubscriber: the broker side of ingest (with src/mqtt/publisher, the only code that
// includes <mqtt/...>).
//
// Uses Paho's callback API on purpose: Paho C sends the PUBACK of a QoS 1 message only
// after message_arrived() returns, and message_arrived() returns only once IngestSink has
// written the line. (The consuming queue, start_consuming(), acks on enqueue: never used.)
// A line that cannot be written blocks the callback and is retried with backoff, so the
// message is never acknowledged unwritten; if vigil is asked to stop while a write keeps
// failing, it exits with code 1 without acknowledging (the broker redelivers to the
// session). A message refused by the disk guard (nothing written) is held without
// blocking Stop(): vigil stops cleanly and the message stays queued at the broker.
//
// Session: fixed client id, clean session off, a QoS 1 subscription to <prefix>/# (a topic
// of no contract shape is quarantined, not unseen; the sink recognises vigil's own
// outputs), MQTT 3.1.1 pinned. The callback is set
// before connect() because a persistent session's queued messages arrive right after
// CONNACK, before any subscribe. After the first connection Paho reconnects by itself
// with backoff; connected() then resubscribes. Before it, Tick() retries the connect.
//
// A side topic (fleet.model_topic, outside the prefix): when set, also subscribed (QoS 1)
// and its messages go to the handler instead of the sink; the handler must return at once
// (daemon::FleetWatcher::Offer only stores the payload), since Paho's thread is ingest's.
//
// Shutdown: Stop() closes a gate instead of disconnecting, because Paho C acknowledges
// (and only queues in memory) publishes that arrive while it disconnects.
//
// Threads: message_arrived/connected/connection_lost run on Paho's thread; Start, Tick,
// Stop on the caller's (main) thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ingest/ingest_sink.h"
#include "vigil/clock.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::ingest {

class MqttSubscriber {
 public:
  MqttSubscriber(const MqttConfig& config, IngestSink& sink, Clock& clock,
                 const std::atomic<bool>& stopping);
  ~MqttSubscriber();

  // Before Start(): messages on `topic` (exact, no wildcards) go to `handler`.
  void SetSideTopic(std::string topic, std::function<void(std::string payload)> handler);
  Status Start();  // first connect attempt (asynchronous)
  void Tick();     // retries the first connect when due
  // Stops taking messages: returns once no message is being written; later messages are
  // held unacknowledged. The process must exit afterwards without destroying this object
  // (Paho's thread may be parked in the callback); see run_command.cc.
  void Stop();

  bool is_connected() const;
  uint64_t connects() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::ingest
