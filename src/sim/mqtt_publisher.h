// MqttPublisher: the simulator's broker side, the one MQTT publisher (mqtt/publisher.h)
// behind the runner's Publisher interface (a simulated message's class, machine and bad
// kind stay here; the broker gets topic, payload and the retained flag).
#pragma once

#include <atomic>
#include <cstdint>

#include "mqtt/publisher.h"
#include "sim/runner.h"

namespace vigil::sim {

using publish::PublisherOptions;

class MqttPublisher final : public Publisher {
 public:
  MqttPublisher(PublisherOptions options, Clock& clock, const std::atomic<bool>& stop)
      : pub_(std::move(options), clock, stop) {}

  Status Connect(int64_t timeout_ms) { return pub_.Connect(timeout_ms); }
  Status Publish(const OutMessage& m) override { return pub_.Publish(m.topic, m.payload, m.retained); }
  Status Flush() override { return pub_.Flush(); }
  void Disconnect() { pub_.Disconnect(); }

  uint64_t acknowledged() const { return pub_.acknowledged(); }
  uint64_t retried() const { return pub_.retried(); }
  uint64_t reconnects() const { return pub_.reconnects(); }

 private:
  publish::MqttPublisher pub_;
};

}  // namespace vigil::sim
