// Outbox: publishes predictions and alerts from a thread of its own, so that nothing of the
// processor ever waits for the broker. Paho C takes one process-wide mutex that the
// ingest client's callback holds while it writes a message (and forever once shutdown
// parks it), so a second client's calls can block; here that only delays publishing.
// Push() never blocks; the queue keeps the newest max_queued messages (retained
// predictions are refreshed every run, alerts are also in vigil.db). The destructor does
// not wait for a thread stuck in Paho: the thread owns what it uses.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/fleet.h"
#include "vigil/clock.h"
#include "vigil/config.h"

namespace vigil::model {

struct OutboxStats {
  uint64_t published = 0, dropped = 0, failures = 0;
};

class Outbox {
 public:
  Outbox(const Config& config, Clock& clock, size_t max_queued = 10'000);
  ~Outbox();
  void Push(std::vector<sim::OutMessage> messages);
  OutboxStats Stats() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace vigil::model
