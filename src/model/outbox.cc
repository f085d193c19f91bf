#include "model/outbox.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "common/logging.h"
#include "sim/mqtt_publisher.h"

namespace vigil::model {

struct Outbox::State {
  Config config;
  Clock* clock;
  size_t max_queued;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<sim::OutMessage> queue;
  std::atomic<bool> stop{false};
  OutboxStats stats;

  void Run() {
    auto log = GetLogger("model");
    std::unique_ptr<sim::MqttPublisher> publisher;
    int64_t backoff_ms = 1000;
    while (!stop) {
      std::vector<sim::OutMessage> batch;
      {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [&] { return stop || !queue.empty(); });
        if (stop) return;
        batch.assign(queue.begin(), queue.end());
      }
      if (!publisher) {
        sim::PublisherOptions o;
        o.mqtt = config.mqtt;
        o.client_id = config.mqtt.client_id + "-out";
        o.flush_timeout_ms = 10'000;
        publisher = std::make_unique<sim::MqttPublisher>(o, *clock, stop);
        if (Status s = publisher->Connect(5000); !s.ok()) {
          log->warn("cannot publish predictions and alerts: {} (retrying in {} s)", s.message(), backoff_ms / 1000);
          publisher.reset();
          {
            std::lock_guard<std::mutex> lk(mu);
            stats.failures++;
          }
          clock->SleepMs(backoff_ms);
          backoff_ms = std::min<int64_t>(backoff_ms * 2, 60'000);
          continue;
        }
        backoff_ms = 1000;
      }
      Status s;
      for (const sim::OutMessage& m : batch) {
        if (s.ok()) s = publisher->Publish(m);
      }
      if (s.ok()) s = publisher->Flush();
      std::lock_guard<std::mutex> lk(mu);
      if (!s.ok()) {
        stats.failures++;
        log->warn("publishing predictions and alerts: {}", s.message());
        continue;  // the batch stays queued
      }
      // Drop what was sent (new messages may have been pushed meanwhile behind it).
      const size_t sent = std::min(batch.size(), queue.size());
      queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(sent));
      stats.published += sent;
    }
  }
};

Outbox::Outbox(const Config& config, Clock& clock, size_t max_queued) : state_(std::make_shared<State>()) {
  state_->config = config;
  state_->clock = &clock;
  state_->max_queued = max_queued;
  std::thread([s = state_] { s->Run(); }).detach();
}

Outbox::~Outbox() {
  state_->stop = true;
  state_->cv.notify_all();
}

void Outbox::Push(std::vector<sim::OutMessage> messages) {
  {
    std::lock_guard<std::mutex> lk(state_->mu);
    for (auto& m : messages) state_->queue.push_back(std::move(m));
    while (state_->queue.size() > state_->max_queued) {
      state_->queue.pop_front();
      state_->stats.dropped++;
    }
  }
  state_->cv.notify_all();
}

OutboxStats Outbox::Stats() const {
  std::lock_guard<std::mutex> lk(state_->mu);
  return state_->stats;
}

}  // namespace vigil::model
