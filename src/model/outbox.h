// Outbox: publishes predictions and alerts from a thread of its own, so that nothing of the
// processor ever waits for the broker. Paho C takes one process-wide mutex that the
// ingest client's callback holds while it writes a message (and forever once shutdown
// parks it), so a second client's calls can block; here that only delays publishing.
//
// Alerts are durable: the scorer writes them to vigil.db's `alerts` (published = 0) in the
// transaction that raised them; the outbox publishes the unpublished ones (QoS 1, in id
// order) and marks them published after the broker has acknowledged them. A crash
// anywhere leaves them unpublished, and the next outbox sends them: at least once, never
// lost. Predictions are retained state: only the newest per topic is kept, so an outage
// of the broker costs one message per machine, not a queue.
// The destructor does not wait for a thread stuck in Paho: the thread owns what it uses.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "mqtt/publisher.h"
#include "vigil/clock.h"
#include "vigil/config.h"

namespace vigil::model {

struct OutboxStats {
  uint64_t published = 0;   // messages acknowledged by the broker
  uint64_t superseded = 0;  // predictions replaced by a newer one before they went out
  uint64_t failures = 0;    // failed connection or publishing attempts (retried)
};

class Outbox {
 public:
  Outbox(const Config& config, Clock& clock);
  ~Outbox();
  // Starts the publishing thread (once). Not in the constructor: a daemon that fails to
  // start must be able to return before any Paho thread exists.
  void Start();
  // Retained prediction messages; never blocks.
  void PushPredictions(std::vector<publish::Message> messages);
  // New rows in `alerts`: look now (the outbox also looks once at start).
  void AlertsWritten();
  OutboxStats Stats() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
  bool started_ = false;
};

}  // namespace vigil::model
