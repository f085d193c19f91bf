#include "model/outbox.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "common/logging.h"
#include "common/data_paths.h"
#include "lake/line_format.h"
#include "model/alerts.h"
#include "mqtt/publisher.h"
#include "store/predictions.h"

namespace vigil::model {
namespace {

constexpr int kAlertBatch = 1000;

struct PendingAlerts {
  std::vector<publish::Message> messages;
  int64_t max_id = 0;
};

// The oldest unpublished alerts, as MQTT messages (none when there is no vigil.db yet).
Result<PendingAlerts> ReadUnpublished(const Config& config) {
  PendingAlerts out;
  Result<std::vector<std::pair<int64_t, Alert>>> rows =
      store::ReadUnpublishedAlerts(data_paths::Database(config.data_dir), kAlertBatch);
  if (!rows) return rows.error();
  for (const auto& [id, a] : *rows) {
    out.max_id = id;
    out.messages.push_back({lake::OutputTopic(config.mqtt.topic_prefix, a.machine_id, lake::kAlertLevel), AlertJson(a)});
  }
  return out;
}

}  // namespace

struct Outbox::State {
  Config config;
  Clock* clock;
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, publish::Message> predictions;  // topic -> newest
  bool alerts_pending = true;                          // look at the table once at start
  std::atomic<bool> stop{false};
  OutboxStats stats;

  void Failed(const std::string& what, std::map<std::string, publish::Message> unsent, int64_t* backoff_ms) {
    GetLogger("model")->warn("publishing predictions and alerts: {} (retrying in {} s)", what, *backoff_ms / 1000);
    {
      std::lock_guard<std::mutex> lk(mu);
      stats.failures++;
      alerts_pending = true;
      for (auto& [topic, m] : unsent) predictions.emplace(topic, std::move(m));  // a newer one wins
    }
    clock->SleepMs(*backoff_ms);
    *backoff_ms = std::min<int64_t>(*backoff_ms * 2, 60'000);
  }

  void Run() {
    std::unique_ptr<publish::MqttPublisher> publisher;
    int64_t backoff_ms = 1000;
    while (!stop) {
      std::map<std::string, publish::Message> preds;
      {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [&] { return stop || alerts_pending || !predictions.empty(); });
        if (stop) return;
        preds.swap(predictions);
        alerts_pending = false;
      }
      Result<PendingAlerts> alerts = ReadUnpublished(config);
      if (!alerts) {
        Failed(alerts.error().message(), std::move(preds), &backoff_ms);
        continue;
      }
      if (preds.empty() && alerts->messages.empty()) continue;
      if (!publisher) {
        publish::PublisherOptions o;
        o.mqtt = config.mqtt;
        o.client_id = config.mqtt.client_id + "-out";
        o.flush_timeout_ms = 10'000;
        o.logger = "model";
        publisher = std::make_unique<publish::MqttPublisher>(o, *clock, stop);
        if (Status s = publisher->Connect(5000); !s.ok()) {
          publisher.reset();
          Failed("cannot connect: " + s.message(), std::move(preds), &backoff_ms);
          continue;
        }
      }
      Status s;
      for (const publish::Message& m : alerts->messages) {
        if (s.ok()) s = publisher->Publish(m);
      }
      for (const auto& [topic, m] : preds) {
        if (s.ok()) s = publisher->Publish(m);
      }
      if (s.ok()) s = publisher->Flush();  // every PUBACK is in
      if (s.ok() && alerts->max_id) s = store::MarkAlertsPublished(data_paths::Database(config.data_dir), alerts->max_id);
      if (!s.ok()) {
        publisher.reset();
        Failed(s.message(), std::move(preds), &backoff_ms);
        continue;
      }
      backoff_ms = 1000;
      std::lock_guard<std::mutex> lk(mu);
      stats.published += alerts->messages.size() + preds.size();
      if (alerts->messages.size() == kAlertBatch) alerts_pending = true;  // more behind them
    }
  }
};

Outbox::Outbox(const Config& config, Clock& clock) : state_(std::make_shared<State>()) {
  state_->config = config;
  state_->clock = &clock;
}

void Outbox::Start() {
  if (started_) return;
  started_ = true;
  std::thread([s = state_] { s->Run(); }).detach();
}

Outbox::~Outbox() {
  state_->stop = true;
  state_->cv.notify_all();
}

void Outbox::PushPredictions(std::vector<publish::Message> messages) {
  {
    std::lock_guard<std::mutex> lk(state_->mu);
    for (auto& m : messages) {
      auto [it, added] = state_->predictions.insert_or_assign(m.topic, std::move(m));
      (void)it;
      if (!added) state_->stats.superseded++;
    }
  }
  state_->cv.notify_all();
}

void Outbox::AlertsWritten() {
  {
    std::lock_guard<std::mutex> lk(state_->mu);
    state_->alerts_pending = true;
  }
  state_->cv.notify_all();
}

OutboxStats Outbox::Stats() const {
  std::lock_guard<std::mutex> lk(state_->mu);
  return state_->stats;
}

}  // namespace vigil::model
