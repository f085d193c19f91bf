// Config: every setting of vigil, with its built-in default.
//
// Precedence: built-in defaults < TOML file (--config) < command-line flags. Load() parses
// a file into a Config; Check() validates a whole Config and names the offending key.
// config/vigil.toml documents every key with its default (a test keeps it in sync with the
// option table in src/common/config.cc).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "vigil/status.h"

namespace vigil {

struct SensorSpec {
  std::string name;   // last topic level, e.g. "vibration"
  std::string field;  // payload field with the value, also its `features` column
  double min = 0;     // plausible range, inclusive
  double max = 0;
};

// kSlope: the least-squares trend of the values over their window starts, per hour.
enum class Aggregate { kMean, kStd, kMin, kMax, kCount, kLast, kSlope };

struct FeatureSpec {
  std::string name;    // its column in `features`
  std::string sensor;  // a SensorSpec::name
  Aggregate aggregate = Aggregate::kMean;
  int64_t duration_ms = 0;
};

// The column name a [[feature_templates]] entry gives (sensor, aggregate, duration):
// "<sensor>_<aggregate>_<duration as written>", every character of the sensor name outside
// [A-Za-z0-9_] replaced by '_' (e.g. "s02", "mean", "5h" -> "s02_mean_5h").
std::string TemplateFeatureName(std::string_view sensor, Aggregate aggregate, std::string_view duration);

enum class FsyncPolicy { kNever, kInterval, kAlways };

struct MqttConfig {
  std::string host = "127.0.0.1";
  int64_t port = 1883;
  std::string client_id = "vigil";
  std::string topic_prefix = "industrial/machine";
  int64_t keepalive_s = 30;
  std::string username;
  std::string password;       // from password_file or VIGIL_MQTT_PASSWORD, never the config
  std::string password_file;
  std::string ca_file;    // TLS is on when ca_file is set
  std::string cert_file;  // client certificate (optional)
  std::string key_file;
  int64_t reconnect_min_s = 1;
  int64_t reconnect_max_s = 30;
  // TCP_NODELAY on vigil's side. Off by default: Nagle coalesces vigil's PUBACKs into fewer
  // segments (+30-40% drain rate, see BENCHMARKS.md); safe because the broker side sends
  // without delay (set_tcp_nodelay true in config/mosquitto.conf). Turn it on for brokers
  // where that cannot be set, to avoid Nagle/delayed-ACK stalls.
  bool tcp_nodelay = false;
};

struct IngestConfig {
  int64_t max_payload_bytes = 64 * 1024;
  int64_t max_clock_skew_ms = 300'000;
  int64_t stats_interval_ms = 60'000;  // how often the counters are logged
};

struct LakeConfig {
  int64_t segment_max_bytes = 64 * 1024 * 1024;  // a stream's lines in one log
  int64_t segment_max_age_ms = 300'000;
  int64_t log_max_bytes = 256LL << 20;            // the writer's log (lake/segment_log.h)
  int64_t max_open_segments = 256;                // no longer used
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  int64_t fsync_interval_ms = 1000;
  // Below this much free space ingest holds messages unacknowledged (the broker queues
  // them) rather than risk ENOSPC in the middle of a line; 0 turns the check off.
  int64_t min_free_bytes = 128LL << 20;
};

// Housekeeping of vigil run: lake/archive and lake/quarantine are trimmed by age (of the
// segment, from its name) and total size; lake/raw is never touched. 0 = no limit.
struct RetentionConfig {
  int64_t archive_max_age_ms = 0;
  int64_t archive_max_bytes = 0;
  int64_t quarantine_max_age_ms = 30LL * 86'400'000;
  int64_t quarantine_max_bytes = 0;
  int64_t interval_ms = 600'000;
};

struct ProcessingConfig {
  int64_t window_ms = 1000;
  int64_t label_horizon_ms = 7LL * 24 * 3600 * 1000;
  int64_t interval_ms = 300'000;
};

// vigil simulate: the simulated fleet (src/sim/). Values are read by the simulator only.
struct SimulateConfig {
  std::vector<std::string> machines = {"PUMP-A01", "FAN-B02", "COMP-C03", "MOTOR-D04", "PUMP-E05"};
  // "TYPE:VIBRATION_MM_S:TEMPERATURE_C"; TYPE is the id's prefix before the first '-',
  // "*" matches every other id.
  std::vector<std::string> base_levels = {"PUMP:2.0:55", "FAN:1.5:40", "COMP:2.8:75",
                                          "MOTOR:1.8:60", "*:2.0:50"};
  int64_t seed = 1;
  int64_t interval_ms = 1000;                      // sampling interval of every sensor
  double failure_threshold = 7.1;                  // vibration, mm/s RMS
  int64_t repair_time_ms = 8LL * 3600 * 1000;      // down time after a failure
  int64_t mean_time_to_failure_ms = 14LL * 86'400'000;  // healthy -> threshold, on average
  double bad_rate = 0.0;                           // share of extra malformed messages
  int64_t qos = 1;
  int64_t max_rate = 0;                            // messages/s, 0 = as fast as acks allow
  int64_t max_in_flight = 1000;                    // unacknowledged QoS 1 messages at most
  std::string client_id = "vigil-sim";             // --client-id overrides it
};

// vigil train and the scoring after each batch (src/model/).
struct ModelConfig {
  int64_t stride_ms = 60'000;       // one training row per machine per stride
  double test_fraction = 0.25;      // held out: the newest share of the time range, or of the machines; 0: none
  std::string split = "auto";       // evaluation split: auto | time | machine | machine_kfold (model/dataset.h)
  int64_t folds = 5;                // machine_kfold: the number of folds (fewer when fewer machines fail)
  bool refit = true;                // after evaluation, the final model fits all labelled rows
  std::string threshold_goal = "f1";  // f1 | recall:R | cost:C (model/threshold.h)
  int64_t min_failures = 3;         // failures labelling training rows, at least
  int64_t rounds = 200;             // boosting rounds
  int64_t max_depth = 4;
  double learning_rate = 0.1;
  int64_t seed = 1;
  double warning_threshold = 0;     // probability: warning alert; 0: the current model's chosen threshold
  double critical_threshold = 0.8;  // probability: critical alert
  double hysteresis = 0.05;         // an alert clears only this far below its threshold
  double zone_hysteresis = 0.2;     // mm/s: a zone is left only this far below its bound
  int64_t retrain_interval_ms = 0;  // vigil run retrains this often (0: never)
  int64_t anomaly_baseline_ms = 86'400'000;  // cold start: robust z against this much history
  int64_t rul_cap_ms = 0;           // > 0: also fit a remaining-useful-life model capped at this (0: off)
};

struct HttpConfig {
  std::string listen = "127.0.0.1:8080";  // ADDR:PORT, or "off"
  // File whose first line is the access token; required when listen is beyond loopback.
  std::string token_file;
};

// Upload of published raw segments to an S3-compatible bucket (src/upload/). Off while
// bucket is empty. Objects: <prefix>/raw/gateway=<gateway_id>/date=D/machine_id=M/<segment>.
struct UploadConfig {
  std::string bucket;                 // empty: upload off
  std::string endpoint = "https://s3.amazonaws.com";  // path-style: <endpoint>/<bucket>/<key>
  std::string region = "us-east-1";
  std::string prefix;                 // key prefix, without leading/trailing '/'
  std::string gateway_id;             // this gateway's name in the keys (required with a bucket)
  std::string access_key_id;          // VIGIL_S3_ACCESS_KEY_ID wins over it
  std::string secret_access_key;      // from secret_key_file or VIGIL_S3_SECRET_ACCESS_KEY, never the config
  std::string secret_key_file;
  std::string ca_file;                // PEM CA bundle for an https endpoint (empty: the system's)
  int64_t interval_ms = 10'000;       // how often the queue is scanned when idle
  int64_t timeout_ms = 120'000;       // one PUT at most
  int64_t retry_max_ms = 300'000;     // longest wait between failed attempts (doubles from 1 s)
};

// Fleet model announcements (issue 17): `vigil run` subscribes to model_topic and, on a
// message naming a fleet model ({"id": ..., "sha256": ...}), pulls it from the bucket of
// [upload] like `vigil models pull --id`. Needs upload.bucket; "" or "off": not subscribed.
struct FleetConfig {
  std::string model_topic = "vigil/fleet/model";  // outside mqtt.topic_prefix (not ingest's)
};

struct LogConfig {
  std::string level = "info";  // trace, debug, info, warn, error
  std::string format = "text";  // text | json
};

struct Config {
  std::string data_dir = "/var/lib/vigil";
  MqttConfig mqtt;
  IngestConfig ingest;
  LakeConfig lake;
  RetentionConfig retention;
  ProcessingConfig processing;
  SimulateConfig simulate;
  ModelConfig model;
  HttpConfig http;
  UploadConfig upload;
  FleetConfig fleet;
  LogConfig log;
  std::vector<SensorSpec> sensors = DefaultSensors();
  std::vector<FeatureSpec> features = DefaultFeatures();
  // Feature name -> "<file>:<line>" of the [[feature_templates]] entry it was expanded from
  // (features from [[features]] or the defaults are absent). For check-config's listing
  // only: the fingerprint and the tables see c.features alone.
  std::map<std::string, std::string> feature_templates;

  static std::vector<SensorSpec> DefaultSensors();
  static std::vector<FeatureSpec> DefaultFeatures();

  // The sensor with this name, or nullptr.
  const SensorSpec* FindSensor(std::string_view name) const;
};

// Parses a TOML file over `base` (keys absent from the file keep base's values). Errors
// name the file, line and key: "vigil.toml:12: lake.fsync: expected one of ...".
Result<Config> LoadConfigFile(const std::string& path, const Config& base = Config{});
Result<Config> ParseConfigText(std::string_view toml, const std::string& source_name,
                               const Config& base = Config{});

// The first line of a secret file (mqtt.password_file, http.token_file) without the line
// end. Errors name the key and the file and say why.
Result<std::string> ReadSecretFile(const std::string& key, const std::string& path);

// Whole-config checks (ranges, cross references). Returns every problem, one per line.
Status CheckConfig(const Config& c);

// "1500ms", "30s", "5m", "24h", "7d" -> milliseconds.
Result<int64_t> ParseDuration(std::string_view text);
std::string FormatDuration(int64_t ms);

// check-config's listing of c.features, one per line in column order:
// "  s02_mean_5h  s02 mean 5h  (template at vigil.toml:12)".
std::string FeatureListing(const Config& c);

std::string_view FsyncPolicyName(FsyncPolicy p);
std::string_view AggregateName(Aggregate a);

}  // namespace vigil
