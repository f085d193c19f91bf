#include "mqtt/publisher.h"

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mqtt/async_client.h>
#include <mutex>

#include "common/logging.h"
#include "common/net.h"

namespace vigil::publish {
namespace {

constexpr int64_t kWaitMs = 100;
// After SIGINT/SIGTERM, Flush() waits this long (without an acknowledgement) at most.
constexpr int64_t kStoppingFlushMs = 5000;

}  // namespace

class MqttPublisher::Impl final : public mqtt::callback, public mqtt::iaction_listener {
 public:
  Impl(PublisherOptions options, Clock& clock, const std::atomic<bool>& stop)
      : options_(std::move(options)), clock_(clock), stop_(stop), log_(GetLogger(options_.logger)) {}

  ~Impl() override { Disconnect(); }

  Status Connect(int64_t timeout_ms) {
    const MqttConfig& c = options_.mqtt;
    try {
      auto create = mqtt::create_options_builder()
                        .send_while_disconnected(true, false)
                        .max_buffered_messages(options_.max_in_flight + 16)
                        .finalize();
      client_ = std::make_unique<mqtt::async_client>(BrokerUri(c), options_.client_id, create,
                                                     static_cast<mqtt::iclient_persistence*>(nullptr));
      client_->set_callback(*this);
    } catch (const mqtt::exception& e) {
      return Status::InvalidArgument("MQTT client for " + BrokerUri(c) + ": " + e.what());
    }
    auto b = mqtt::connect_options_builder()
                 .mqtt_version(MQTTVERSION_3_1_1)
                 .clean_session(false)
                 .keep_alive_interval(std::chrono::seconds(c.keepalive_s))
                 .connect_timeout(std::chrono::seconds(10))
                 .max_inflight(options_.max_in_flight)
                 .automatic_reconnect(std::chrono::seconds(c.reconnect_min_s),
                                      std::chrono::seconds(c.reconnect_max_s));
    if (!c.username.empty()) b.user_name(c.username).password(c.password);
    if (!c.ca_file.empty()) {
      mqtt::ssl_options ssl;
      ssl.set_trust_store(c.ca_file);
      if (!c.cert_file.empty()) {
        ssl.set_key_store(c.cert_file);
        ssl.set_private_key(c.key_file);
      }
      ssl.set_enable_server_cert_auth(true);
      ssl.set_verify(true);
      b.ssl(ssl);
    }
    auto options = b.finalize();
    const int64_t deadline = clock_.NowMs() + timeout_ms;
    int64_t delay_ms = c.reconnect_min_s * 1000;
    std::string last_error;
    while (!stop_) {
      try {
        client_->connect(options)->wait();
        SetNoDelayOnPeerPort(static_cast<int>(c.port));
        log_->info("connected to {} as '{}' (QoS {}, window {})", BrokerUri(c), options_.client_id,
                   options_.qos, options_.max_in_flight);
        return Status::Ok();
      } catch (const mqtt::exception& e) {
        last_error = e.what();
      }
      if (clock_.NowMs() + delay_ms > deadline) break;
      log_->warn("cannot connect to {} ({}); retrying in {} ms", BrokerUri(c), last_error, delay_ms);
      for (int64_t slept = 0; slept < delay_ms && !stop_; slept += 100) clock_.SleepMs(100);
      delay_ms = std::min<int64_t>(delay_ms * 2, c.reconnect_max_s * 1000);
    }
    return Status::Unavailable("cannot connect to the broker at " + BrokerUri(c) +
                               (last_error.empty() ? "" : ": " + last_error));
  }

  Status Publish(const std::string& topic, const std::string& payload, bool retained) {
    VIGIL_RETURN_IF_ERROR(ResendFailed());
    return Send(mqtt::make_message(topic, payload, options_.qos, retained));
  }

  Status Flush() {
    int64_t last_progress = clock_.NowMs();
    uint64_t last_acked = acked_.load();
    while (true) {
      VIGIL_RETURN_IF_ERROR(ResendFailed());
      if (in_flight_.load() == 0 && RetryEmpty()) return Status::Ok();
      const int64_t now = clock_.NowMs();
      if (acked_.load() != last_acked) {
        last_acked = acked_.load();
        last_progress = now;
      } else if (now - last_progress > (stop_ ? kStoppingFlushMs : options_.flush_timeout_ms)) {
        return Status::Unavailable("the broker acknowledged nothing for " +
                                   std::to_string(options_.flush_timeout_ms / 1000) + " s; " +
                                   std::to_string(in_flight_.load()) + " message(s) unacknowledged");
      }
      WaitForSlot(0);
    }
  }

  void Disconnect() {
    if (!client_) return;
    try {
      if (client_->is_connected()) client_->disconnect(std::chrono::milliseconds(2000))->wait_for(std::chrono::seconds(5));
    } catch (const mqtt::exception& e) {
      log_->warn("disconnect: {}", e.what());
    }
    try {
      client_->disable_callbacks();
    } catch (const mqtt::exception&) {
    }
    client_.reset();
  }

  uint64_t acknowledged() const { return acked_.load(); }
  uint64_t retried() const { return retried_.load(); }
  uint64_t reconnects() const { return reconnects_.load(); }

  // --- Paho's thread ---

  void connected(const std::string&) override {
    SetNoDelayOnPeerPort(static_cast<int>(options_.mqtt.port));
    if (++connects_ > 1) {
      ++reconnects_;
      log_->info("reconnected to the broker");
    }
  }
  void connection_lost(const std::string& cause) override {
    log_->warn("lost the broker connection ({}); reconnecting", cause.empty() ? "no reason given" : cause);
  }

  // iaction_listener: the outcome of one publish.
  void on_success(const mqtt::token&) override {
    ++acked_;
    ReleaseSlot();
  }
  void on_failure(const mqtt::token& tok) override {
    try {
      const auto* dt = dynamic_cast<const mqtt::delivery_token*>(&tok);
      if (dt && dt->get_message()) {
        std::lock_guard<std::mutex> l(mu_);
        retry_.push_back(dt->get_message());
      }
    } catch (...) {
      // Nothing may escape into Paho's C code; the message is then lost to this run and
      // Flush() still terminates.
    }
    ReleaseSlot();
  }

 private:
  bool RetryEmpty() {
    std::lock_guard<std::mutex> l(mu_);
    return retry_.empty();
  }

  Status ResendFailed() {
    while (true) {
      mqtt::const_message_ptr m;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (retry_.empty()) return Status::Ok();
        m = retry_.front();
        retry_.pop_front();
      }
      ++retried_;
      VIGIL_RETURN_IF_ERROR(Send(m));
    }
  }

  // Waits for a window slot, then hands the message to Paho; retries while Paho refuses
  // (buffer full while disconnected).
  Status Send(mqtt::const_message_ptr m) {
    int64_t warned_ms = 0;
    while (true) {
      if (in_flight_.load() < options_.max_in_flight) {
        ++in_flight_;
        try {
          client_->publish(m, nullptr, *this);
          return Status::Ok();
        } catch (const mqtt::exception& e) {
          --in_flight_;
          const int64_t now = clock_.NowMs();
          if (now - warned_ms > 10'000) {
            log_->warn("publish refused ({}); retrying", e.what());
            warned_ms = now;
          }
        }
      }
      if (stop_) return Status::Unavailable("stopped while waiting for the broker to accept messages");
      if (in_flight_.load() < options_.max_in_flight) {
        clock_.SleepMs(100);  // Paho refused: its buffer is full while disconnected
      } else {
        WaitForSlot(options_.max_in_flight);
      }
    }
  }

  // Called by Paho's thread when a message is done (acknowledged or failed).
  void ReleaseSlot() {
    {
      std::lock_guard<std::mutex> l(window_mu_);
      --in_flight_;
    }
    window_cv_.notify_one();
  }

  // Blocks until fewer than max(limit, 1) messages are in flight (at most kWaitMs, so the
  // caller rechecks stop and timeouts). A condition variable rather than polling: a
  // backfill waits here for every window slot.
  void WaitForSlot(int limit) {
    std::unique_lock<std::mutex> l(window_mu_);
    window_cv_.wait_for(l, std::chrono::milliseconds(kWaitMs), [&] { return in_flight_.load() < std::max(limit, 1) || stop_; });
  }

  const PublisherOptions options_;
  Clock& clock_;
  const std::atomic<bool>& stop_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<mqtt::async_client> client_;
  std::mutex window_mu_;
  std::condition_variable window_cv_;
  std::atomic<int> in_flight_{0};  // decremented under window_mu_ (for window_cv_)
  std::atomic<uint64_t> acked_{0};
  std::atomic<uint64_t> retried_{0};
  std::atomic<uint64_t> connects_{0};
  std::atomic<uint64_t> reconnects_{0};
  std::mutex mu_;
  std::deque<mqtt::const_message_ptr> retry_;  // guarded by mu_
};

MqttPublisher::MqttPublisher(PublisherOptions options, Clock& clock, const std::atomic<bool>& stop)
    : impl_(std::make_unique<Impl>(std::move(options), clock, stop)) {}
MqttPublisher::~MqttPublisher() = default;
Status MqttPublisher::Connect(int64_t timeout_ms) { return impl_->Connect(timeout_ms); }
Status MqttPublisher::Publish(const std::string& topic, const std::string& payload, bool retained) {
  return impl_->Publish(topic, payload, retained);
}
Status MqttPublisher::Flush() { return impl_->Flush(); }
void MqttPublisher::Disconnect() { impl_->Disconnect(); }
uint64_t MqttPublisher::acknowledged() const { return impl_->acknowledged(); }
uint64_t MqttPublisher::retried() const { return impl_->retried(); }
uint64_t MqttPublisher::reconnects() const { return impl_->reconnects(); }

}  // namespace vigil::publish
