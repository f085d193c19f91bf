#include "ingest/mqtt_subscriber.h"


#include <cstdlib>
#include <mqtt/async_client.h>
#include <mutex>

#include "common/logging.h"
#include "common/net.h"

namespace vigil::ingest {

namespace {

// Why the broker refused a connection (MQTT 3.1.1 CONNACK codes); network and TLS
// failures have negative codes.
const char* ConnackText(int rc) {
  switch (rc) {
    case 1: return ": protocol version refused";
    case 2: return ": client id refused";
    case 3: return ": broker unavailable";
    case 4: return ": bad user name or password (check mqtt.username, mqtt.password_file, VIGIL_MQTT_PASSWORD)";
    case 5: return ": not authorized (check mqtt.username and the broker's ACL)";
    default:
      return rc < 0 ? ": connection or TLS handshake failed; with TLS check that mqtt.ca_file signed the broker's "
                      "certificate and that it names mqtt.host" : "";
  }
}

}  // namespace

class MqttSubscriber::Impl final : public mqtt::callback {
 public:
  Impl(const MqttConfig& config, IngestSink& sink, Clock& clock, const std::atomic<bool>& stopping)
      : config_(config), sink_(sink), clock_(clock), stopping_(stopping), log_(GetLogger("ingest")) {}

  Status Start() {
    // Paho C formats every protocol event into an in-memory trace ring by default: a
    // vsnprintf per packet on the hot path. Keep only errors unless asked for via
    // MQTT_C_CLIENT_TRACE_LEVEL.
    if (!std::getenv("MQTT_C_CLIENT_TRACE_LEVEL")) MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
    try {
      client_ = std::make_unique<mqtt::async_client>(BrokerUri(config_), config_.client_id,
                                                     static_cast<mqtt::iclient_persistence*>(nullptr));
      client_->set_callback(*this);  // before connect: queued session messages come first
    } catch (const mqtt::exception& e) {
      return Status::InvalidArgument("MQTT client for " + BrokerUri(config_) + ": " + e.what());
    }
    auto b = mqtt::connect_options_builder()
                 .mqtt_version(MQTTVERSION_3_1_1)
                 .clean_session(false)
                 .keep_alive_interval(std::chrono::seconds(config_.keepalive_s))
                 .connect_timeout(std::chrono::seconds(10))
                 .automatic_reconnect(std::chrono::seconds(config_.reconnect_min_s),
                                      std::chrono::seconds(config_.reconnect_max_s));
    if (!config_.username.empty()) b.user_name(config_.username).password(config_.password);
    if (!config_.ca_file.empty()) {
      mqtt::ssl_options ssl;
      ssl.set_trust_store(config_.ca_file);
      if (!config_.cert_file.empty()) {
        ssl.set_key_store(config_.cert_file);
        ssl.set_private_key(config_.key_file);
      }
      ssl.set_enable_server_cert_auth(true);
      ssl.set_verify(true);
      // No ssl error handler: Paho C++ 1.2.0 calls it through a pointer to a copy of these
      // options that connect() has already destroyed (paho.mqtt.cpp #325, #439: a crash).
      b.ssl(ssl);
    }
    options_ = b.finalize();
    log_->info("connecting to {} as client id '{}' (persistent session, QoS 1)",
               BrokerUri(config_), config_.client_id);
    Connect();
    return Status::Ok();
  }

  void SetSideTopic(std::string topic, std::function<void(std::string)> handler) {
    side_topic_ = std::move(topic);
    side_handler_ = std::move(handler);
  }

  void Tick() {
    if (retry_due_ms_.load() != 0 && clock_.NowMs() >= retry_due_ms_.load() && !stopping_) {
      retry_due_ms_ = 0;
      Connect();
    }
  }

  // Closes the gate: waits for a message being written, and parks every later message in
  // message_arrived() so it is never acknowledged. No DISCONNECT is sent: Paho C acks
  // (and queues in memory) publishes that arrive while it is disconnecting, which would
  // lose them; the process exits with the connection instead and the broker keeps the
  // unacknowledged messages for the persistent session.
  void Stop() {
    std::lock_guard<std::mutex> lock(accept_mu_);
    closed_ = true;
  }

  // Tracked by our callbacks: Paho's own is_connected() takes the library mutex, which its
  // thread holds while a callback runs (and forever once Stop() parked it).
  // While a message is held for a low disk, Paho's thread is ours: it sends no PINGREQ
  // and cannot report the broker closing the connection (after 1.5 keepalives), so past
  // that the connection is reported lost; Paho reconnects once the message is released.
  bool is_connected() const {
    const int64_t since = hold_since_ms_.load();
    if (since != 0 && clock_.NowMs() - since > config_.keepalive_s * 1500) return false;
    return connected_.load();
  }
  uint64_t connects() const { return connects_.load(); }

  // --- Paho's thread ---

  void connected(const std::string&) override {
    uint64_t n = ++connects_;
    first_connected_ = true;
    connected_ = true;
    if (config_.tcp_nodelay) SetNoDelayOnPeerPort(static_cast<int>(config_.port));
    log_->info("connected to {} ({}); subscribing", BrokerUri(config_),
               n == 1 ? "first connection" : "reconnect #" + std::to_string(n - 1));
    try {
      // Everything under the prefix: a topic of no contract shape is quarantined (bad_topic)
      // rather than never seen; vigil's own outputs are recognised by the sink.
      client_->subscribe(config_.topic_prefix + "/#", 1, nullptr, subscribe_listener_);
      if (!side_topic_.empty()) client_->subscribe(side_topic_, 1, nullptr, side_listener_);
      // A persistent session of an older vigil still holds its two narrower filters:
      // overlapping subscriptions would deliver each message twice (mosquitto 2), so they
      // go, after "#" is in place (nothing falls between the two).
      client_->unsubscribe(mqtt::string_collection::create(
          {config_.topic_prefix + "/+/telemetry/+", config_.topic_prefix + "/+/event/+"}));
    } catch (const mqtt::exception& e) {
      log_->error("subscribe failed: {}; will retry on the next reconnect", e.what());
    }
  }

  void connection_lost(const std::string& cause) override {
    connected_ = false;
    log_->warn("lost the broker connection ({}); reconnecting with backoff",
               cause.empty() ? "no reason given" : cause);
  }

  void message_arrived(mqtt::const_message_ptr msg) override {
    // Nothing may escape into Paho's C code.
    try {
      if (!side_topic_.empty() && msg->get_topic() == side_topic_) {
        side_handler_(msg->get_payload_ref().str());  // stores it and returns: never blocks ingest
        return;
      }
      RawMessage raw{msg->get_topic(), msg->get_payload_ref().str(), clock_.NowMs()};
      int64_t backoff_ms = 100;
      std::unique_lock<std::mutex> lock(accept_mu_);
      for (uint64_t attempt = 1;; ++attempt) {
        if (closed_) Park(lock);
        Status s = sink_.Accept(raw);
        if (s.ok()) {
          hold_since_ms_ = 0;
          return;  // returning acknowledges the message
        }
        if (attempt == 1 || attempt % 60 == 0) {
          log_->error("cannot write a message (attempt {}): {}; holding it unacknowledged and retrying",
                      attempt, s.message());
        }
        // kUnavailable: the disk guard refused before anything was written, so the wait
        // releases the gate and Stop() need not wait for free space: a clean shutdown,
        // the message unacknowledged at the broker. A failed write keeps the gate.
        const bool refused = s.code() == StatusCode::kUnavailable;
        if (refused && hold_since_ms_ == 0) hold_since_ms_ = clock_.NowMs();
        if (!refused && stopping_) Abandon();
        if (refused) lock.unlock();
        clock_.SleepMs(backoff_ms);
        if (refused) lock.lock();
        backoff_ms = std::min<int64_t>(backoff_ms * 2, 1000);
      }
    } catch (const std::exception& e) {
      log_->critical("unexpected error while handling a message: {}", e.what());
      Abandon();
    } catch (...) {
      Abandon();
    }
  }

 private:
  // Parked until the process exits: the message is never acknowledged.
  [[noreturn]] void Park(std::unique_lock<std::mutex>& lock) {
    lock.unlock();
    for (;;) clock_.SleepMs(1000);
  }

  [[noreturn]] void Abandon() {
    log_->critical("stopping with a message that could not be written; exiting without "
                   "acknowledging it (the broker will redeliver it)");
    spdlog::shutdown();
    std::_Exit(1);
  }

  class SubscribeListener final : public mqtt::iaction_listener {
   public:
    explicit SubscribeListener(Impl& impl) : impl_(impl) {}
    void on_success(const mqtt::token&) override {
      impl_.log_->info("subscribed to {}/#", impl_.config_.topic_prefix);
    }
    void on_failure(const mqtt::token& t) override {
      impl_.log_->error("subscription refused by the broker (rc {})", t.get_return_code());
    }
   private:
    Impl& impl_;
  };

  class SideListener final : public mqtt::iaction_listener {
   public:
    explicit SideListener(Impl& impl) : impl_(impl) {}
    void on_success(const mqtt::token&) override { impl_.log_->info("subscribed to {}", impl_.side_topic_); }
    void on_failure(const mqtt::token& t) override {
      impl_.log_->error("subscription to {} refused by the broker (rc {}): check the broker's ACL",
                        impl_.side_topic_, t.get_return_code());
    }
   private:
    Impl& impl_;
  };

  class ConnectListener final : public mqtt::iaction_listener {
   public:
    explicit ConnectListener(Impl& impl) : impl_(impl) {}
    void on_success(const mqtt::token&) override {}
    void on_failure(const mqtt::token& t) override {
      if (impl_.first_connected_) return;  // Paho's automatic reconnect has taken over
      int64_t delay_s = impl_.next_delay_s_;
      impl_.next_delay_s_ = std::min<int64_t>(delay_s * 2, impl_.config_.reconnect_max_s);
      impl_.log_->warn("cannot connect to {} (rc {}{}); retrying in {} s", BrokerUri(impl_.config_),
                       t.get_return_code(), ConnackText(t.get_return_code()), delay_s);
      impl_.retry_due_ms_ = impl_.clock_.NowMs() + delay_s * 1000;
    }
   private:
    Impl& impl_;
  };

  void Connect() {
    try {
      client_->connect(options_, nullptr, connect_listener_);
    } catch (const mqtt::exception& e) {
      log_->warn("connect: {}; retrying", e.what());
      retry_due_ms_ = clock_.NowMs() + next_delay_s_ * 1000;
    }
  }

  const MqttConfig config_;
  IngestSink& sink_;
  Clock& clock_;
  const std::atomic<bool>& stopping_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<mqtt::async_client> client_;
  mqtt::connect_options options_;
  SubscribeListener subscribe_listener_{*this};
  SideListener side_listener_{*this};
  std::string side_topic_;  // set before Start(), read-only after
  std::function<void(std::string)> side_handler_;
  ConnectListener connect_listener_{*this};
  std::mutex accept_mu_;  // held while a message is written; guards closed_
  bool closed_ = false;
  std::atomic<uint64_t> connects_{0};
  std::atomic<bool> first_connected_{false};
  std::atomic<bool> connected_{false};
  std::atomic<int64_t> hold_since_ms_{0};  // when the held message was first refused; 0: none
  std::atomic<int64_t> retry_due_ms_{0};
  std::atomic<int64_t> next_delay_s_{config_.reconnect_min_s};
};

MqttSubscriber::MqttSubscriber(const MqttConfig& config, IngestSink& sink, Clock& clock,
                               const std::atomic<bool>& stopping)
    : impl_(std::make_unique<Impl>(config, sink, clock, stopping)) {}
MqttSubscriber::~MqttSubscriber() = default;
void MqttSubscriber::SetSideTopic(std::string topic, std::function<void(std::string)> handler) {
  impl_->SetSideTopic(std::move(topic), std::move(handler));
}
Status MqttSubscriber::Start() { return impl_->Start(); }
void MqttSubscriber::Tick() { impl_->Tick(); }
void MqttSubscriber::Stop() { impl_->Stop(); }
bool MqttSubscriber::is_connected() const { return impl_->is_connected(); }
uint64_t MqttSubscriber::connects() const { return impl_->connects(); }

}  // namespace vigil::ingest
