#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>

#include "common/config_options.h"
#include "common/names.h"
#include "vigil/config.h"

namespace vigil {
namespace config_internal {

#define VIGIL_REF(member) +[](Config& c) -> decltype(auto) { return (c.member); }

const std::vector<Option>& Options() {
  constexpr int64_t kMaxI = INT64_MAX;
  static const std::vector<Option> kOptions = {
      {"data_dir", OptType::kString, VIGIL_REF(data_dir), 0, 0, {},
       "Where the lake, the database and the state live (created if missing)."},
      {"mqtt.host", OptType::kString, VIGIL_REF(mqtt.host), 0, 0, {}, "Broker host name or address."},
      {"mqtt.port", OptType::kInt, VIGIL_REF(mqtt.port), 1, 65535, {}, "Broker TCP port."},
      {"mqtt.client_id", OptType::kString, VIGIL_REF(mqtt.client_id), 0, 0, {},
       "MQTT client id. The broker keeps vigil's persistent session under this id: keep it "
       "fixed, and unique per daemon."},
      {"mqtt.topic_prefix", OptType::kString, VIGIL_REF(mqtt.topic_prefix), 0, 0, {},
       "Topic prefix; vigil subscribes to <prefix>/#."},
      {"mqtt.keepalive", OptType::kDuration, VIGIL_REF(mqtt.keepalive_s), 1, 65535, {},
       "MQTT keepalive interval (whole seconds)."},
      {"mqtt.username", OptType::kString, VIGIL_REF(mqtt.username), 0, 0, {},
       "User name for the broker (empty: anonymous)."},
      {"mqtt.password_file", OptType::kString, VIGIL_REF(mqtt.password_file), 0, 0, {},
       "File whose first line is the broker password (keep it mode 0600); the "
       "VIGIL_MQTT_PASSWORD environment variable wins over it. Never in this file."},
      {"mqtt.ca_file", OptType::kString, VIGIL_REF(mqtt.ca_file), 0, 0, {},
       "PEM CA bundle; setting it turns TLS on (the broker's host name is verified)."},
      {"mqtt.cert_file", OptType::kString, VIGIL_REF(mqtt.cert_file), 0, 0, {},
       "PEM client certificate for TLS client authentication (optional)."},
      {"mqtt.key_file", OptType::kString, VIGIL_REF(mqtt.key_file), 0, 0, {},
       "PEM private key of the client certificate."},
      {"mqtt.reconnect_min", OptType::kDuration, VIGIL_REF(mqtt.reconnect_min_s), 1, 3600, {},
       "First reconnect delay after the broker went away (whole seconds); doubles each try."},
      {"mqtt.reconnect_max", OptType::kDuration, VIGIL_REF(mqtt.reconnect_max_s), 1, 3600, {},
       "Longest reconnect delay (whole seconds)."},
      {"mqtt.tcp_nodelay", OptType::kBool, VIGIL_REF(mqtt.tcp_nodelay), 0, 0, {},
       "TCP_NODELAY on vigil's side (see config/vigil.toml for when to turn it on)."},
      {"ingest.max_payload_bytes", OptType::kBytes, VIGIL_REF(ingest.max_payload_bytes), 16,
       256 << 20, {}, "Larger payloads are quarantined as too_large."},
      {"ingest.max_clock_skew", OptType::kDuration, VIGIL_REF(ingest.max_clock_skew_ms), 0, kMaxI,
       {}, "How far ahead of the receive time a timestamp may be (timestamp_out_of_range)."},
      {"ingest.stats_interval", OptType::kDuration, VIGIL_REF(ingest.stats_interval_ms), 1000,
       kMaxI, {}, "How often ingest counters are logged."},
      {"lake.segment_max_bytes", OptType::kBytes, VIGIL_REF(lake.segment_max_bytes), 4096,
       int64_t{1} << 40, {}, "The log is published when one segment (stream) in it reaches this size."},
      {"lake.segment_max_age", OptType::kDuration, VIGIL_REF(lake.segment_max_age_ms), 1000, kMaxI,
       {}, "The log is published when it is this old (bounds the processor's latency)."},
      {"lake.log_max_bytes", OptType::kBytes, VIGIL_REF(lake.log_max_bytes), 4096, int64_t{1} << 40, {},
       "The log is published when it reaches this size (disk: up to twice it while publishing)."},
      {"lake.max_open_segments", OptType::kInt, VIGIL_REF(lake.max_open_segments), 1, 4096, {},
       "No longer used: one log holds every stream. Accepted so older files load."},
      {"lake.fsync", OptType::kFsync, VIGIL_REF(lake.fsync), 0, 0, {"never", "interval", "always"},
       "never: the OS flushes (survives a vigil crash, not a power cut); interval: fdatasync "
       "every fsync_interval and at every publish (a power cut loses at most one interval); "
       "always: fdatasync before every acknowledgement (nothing acknowledged is ever lost)."},
      {"lake.fsync_interval", OptType::kDuration, VIGIL_REF(lake.fsync_interval_ms), 1, 3'600'000,
       {}, "fsync = \"interval\": the longest time written data stays unsynced."},
      {"lake.min_free_bytes", OptType::kBytes, VIGIL_REF(lake.min_free_bytes), 0, int64_t{1} << 50,
       {}, "Below this much free disk vigil stops taking messages (the broker queues them) and "
       "resumes by itself when space returns (0: never stop)."},
      {"retention.archive_max_age", OptType::kDuration, VIGIL_REF(retention.archive_max_age_ms), 0,
       kMaxI, {}, "Processed segments in lake/archive older than this are deleted (0: keep)."},
      {"retention.archive_max_bytes", OptType::kBytes, VIGIL_REF(retention.archive_max_bytes), 0,
       int64_t{1} << 50, {}, "lake/archive is cut to this size, oldest segments first (0: no limit)."},
      {"retention.quarantine_max_age", OptType::kDuration,
       VIGIL_REF(retention.quarantine_max_age_ms), 0, kMaxI, {},
       "Quarantine segments older than this are deleted (0: keep)."},
      {"retention.quarantine_max_bytes", OptType::kBytes, VIGIL_REF(retention.quarantine_max_bytes),
       0, int64_t{1} << 50, {}, "lake/quarantine is cut to this size, oldest first (0: no limit)."},
      {"retention.interval", OptType::kDuration, VIGIL_REF(retention.interval_ms), 1000, kMaxI, {},
       "How often vigil run measures the lake areas and applies retention."},
      {"processing.window", OptType::kDuration, VIGIL_REF(processing.window_ms), 1, 86'400'000, {},
       "Tumbling window W (contract §3)."},
      {"processing.label_horizon", OptType::kDuration, VIGIL_REF(processing.label_horizon_ms), 1,
       kMaxI, {}, "Label horizon H: label_failure_7d = a failure within (t, t + H]."},
      {"processing.interval", OptType::kDuration, VIGIL_REF(processing.interval_ms), 1000, kMaxI,
       {}, "How often vigil run processes the published segments."},
      {"simulate.machines", OptType::kStringList, VIGIL_REF(simulate.machines), 0, 0, {},
       "vigil simulate: the fleet's machine ids (--machines N / --machine-ids override it)."},
      {"simulate.base_levels", OptType::kStringList, VIGIL_REF(simulate.base_levels), 0, 0, {},
       "vigil simulate: healthy vibration (mm/s) and temperature (C) per machine type, as "
       "\"TYPE:VIB:TEMP\"; TYPE is the id's prefix before '-', \"*\" matches the rest."},
      {"simulate.seed", OptType::kInt, VIGIL_REF(simulate.seed), 0, kMaxI, {},
       "vigil simulate: the same seed, options and period give the same messages."},
      {"simulate.interval", OptType::kDuration, VIGIL_REF(simulate.interval_ms), 10, 86'400'000,
       {}, "vigil simulate: sampling interval of every sensor."},
      {"simulate.failure_threshold", OptType::kDouble, VIGIL_REF(simulate.failure_threshold), 0,
       100, {}, "vigil simulate: a vibration reading at or above it (mm/s) is a failure."},
      {"simulate.repair_time", OptType::kDuration, VIGIL_REF(simulate.repair_time_ms), 0, kMaxI,
       {}, "vigil simulate: how long a failed machine stays down (no readings)."},
      {"simulate.mean_time_to_failure", OptType::kDuration,
       VIGIL_REF(simulate.mean_time_to_failure_ms), 3'600'000, kMaxI, {},
       "vigil simulate: average time from healthy to the failure threshold."},
      {"simulate.bad_rate", OptType::kDouble, VIGIL_REF(simulate.bad_rate), 0, 1, {},
       "vigil simulate: malformed messages mixed in, per good message (0 to 1)."},
      {"simulate.qos", OptType::kInt, VIGIL_REF(simulate.qos), 0, 2, {}, "vigil simulate: MQTT QoS."},
      {"simulate.max_rate", OptType::kInt, VIGIL_REF(simulate.max_rate), 0, kMaxI, {},
       "vigil simulate: messages per second at most (0: as fast as the broker acknowledges)."},
      {"simulate.max_in_flight", OptType::kInt, VIGIL_REF(simulate.max_in_flight), 1, 65535, {},
       "vigil simulate: unacknowledged messages at most."},
      {"simulate.client_id", OptType::kString, VIGIL_REF(simulate.client_id), 0, 0, {},
       "vigil simulate: MQTT client id (must differ from the daemon's)."},
      {"model.stride", OptType::kDuration, VIGIL_REF(model.stride_ms), 1, kMaxI, {},
       "vigil train: one row per machine per stride (keeps training fast on a gateway)."},
      {"model.test_fraction", OptType::kDouble, VIGIL_REF(model.test_fraction), 0, 1, {},
       "vigil train: the share held out for testing (the newest of the time range, or of the machines); "
       "0: no evaluation, the model trains on every label-complete row."},
      {"model.split", OptType::kString, VIGIL_REF(model.split), 0, 0, {"auto", "time", "machine", "machine_kfold"},
       "vigil train's evaluation: by time (purge gap), by machine (held-out machines), machine_kfold "
       "(grouped k-fold: every machine held out once, metrics and threshold on the pooled out-of-fold "
       "predictions), or auto (time when its test period has both classes and half the machines, else machine)."},
      {"model.folds", OptType::kInt, VIGIL_REF(model.folds), 2, 1000, {},
       "model.split = \"machine_kfold\": the number of folds (fewer, saying so, when fewer machines have a failure)."},
      {"model.refit", OptType::kBool, VIGIL_REF(model.refit), 0, 0, {},
       "vigil train: after the evaluation, fit the final model on all label-complete rows (false: keep "
       "the evaluated model)."},
      {"model.threshold_goal", OptType::kString, VIGIL_REF(model.threshold_goal), 0, 0, {},
       "vigil train chooses the alert threshold on the held-out rows for: f1 (best F1), "
       "recall:R (highest threshold with recall >= R) or cost:C (a missed failure costs C false alarms)."},
      {"model.min_failures", OptType::kInt, VIGIL_REF(model.min_failures), 1, kMaxI, {},
       "vigil train refuses with fewer failures labelling the training rows."},
      {"model.rounds", OptType::kInt, VIGIL_REF(model.rounds), 1, 10000, {}, "Boosting rounds."},
      {"model.max_depth", OptType::kInt, VIGIL_REF(model.max_depth), 1, 16, {}, "Depth of each tree."},
      {"model.learning_rate", OptType::kDouble, VIGIL_REF(model.learning_rate), 0, 1, {}, "XGBoost eta."},
      {"model.seed", OptType::kInt, VIGIL_REF(model.seed), 0, kMaxI, {}, "Training seed (same data, same model)."},
      {"model.warning_threshold", OptType::kDouble, VIGIL_REF(model.warning_threshold), 0, 1, {},
       "Failure probability of a warning alert; 0: the threshold vigil train chose for the current "
       "model (0.5 for a model without one)."},
      {"model.critical_threshold", OptType::kDouble, VIGIL_REF(model.critical_threshold), 0, 1, {},
       "Failure probability of a critical alert."},
      {"model.hysteresis", OptType::kDouble, VIGIL_REF(model.hysteresis), 0, 1, {},
       "An alert clears only this far below its threshold (no flapping)."},
      {"model.zone_hysteresis", OptType::kDouble, VIGIL_REF(model.zone_hysteresis), 0, 10, {},
       "mm/s: an ISO zone is left downward only this far below its bound (no flapping)."},
      {"model.retrain_interval", OptType::kDuration, VIGIL_REF(model.retrain_interval_ms), 0, kMaxI, {},
       "vigil run retrains this often (0: never; vigil train by hand)."},
      {"model.anomaly_baseline", OptType::kDuration, VIGIL_REF(model.anomaly_baseline_ms), 1000, kMaxI, {},
       "Before a model exists: each window value's robust z-score against this much of the "
       "machine's own history."},
      {"model.rul_cap", OptType::kDuration, VIGIL_REF(model.rul_cap_ms), 0, kMaxI, {},
       "Also fit a remaining-useful-life model (hours to the next failure, capped at this; "
       "0ms: off); vigil train --rul-cap overrides it."},
      {"http.listen", OptType::kString, VIGIL_REF(http.listen), 0, 0, {},
       "Where vigil run serves /healthz, /readyz, /metrics and /api/status (ADDR:PORT, or off)."},
      {"http.token_file", OptType::kString, VIGIL_REF(http.token_file), 0, 0, {},
       "File whose first line is the access token (Bearer header, or ?token= once in the "
       "browser); required when http.listen is beyond loopback."},
      {"upload.bucket", OptType::kString, VIGIL_REF(upload.bucket), 0, 0, {},
       "S3 bucket that receives every published raw segment (empty: no upload)."},
      {"upload.endpoint", OptType::kString, VIGIL_REF(upload.endpoint), 0, 0, {},
       "S3-compatible endpoint URL, http:// or https:// (path-style requests: <endpoint>/<bucket>/<key>)."},
      {"upload.region", OptType::kString, VIGIL_REF(upload.region), 0, 0, {}, "Region of the SigV4 signature."},
      {"upload.prefix", OptType::kString, VIGIL_REF(upload.prefix), 0, 0, {},
       "Key prefix before raw/gateway=<id>/... (no leading or trailing '/'; empty: none)."},
      {"upload.gateway_id", OptType::kString, VIGIL_REF(upload.gateway_id), 0, 0, {},
       "This gateway's id in the object keys (gateway=<id>); unique in the fleet."},
      {"upload.access_key_id", OptType::kString, VIGIL_REF(upload.access_key_id), 0, 0, {},
       "Access key id; the VIGIL_S3_ACCESS_KEY_ID environment variable wins over it."},
      {"upload.secret_key_file", OptType::kString, VIGIL_REF(upload.secret_key_file), 0, 0, {},
       "File whose first line is the secret access key (mode 0600); VIGIL_S3_SECRET_ACCESS_KEY "
       "wins over it. Never in this file."},
      {"upload.ca_file", OptType::kString, VIGIL_REF(upload.ca_file), 0, 0, {},
       "PEM CA bundle to verify an https endpoint (empty: the system's CAs)."},
      {"upload.interval", OptType::kDuration, VIGIL_REF(upload.interval_ms), 100, kMaxI, {},
       "vigil run looks for newly published segments this often when idle."},
      {"upload.timeout", OptType::kDuration, VIGIL_REF(upload.timeout_ms), 1000, kMaxI, {},
       "One PUT may take this long at most."},
      {"upload.retry_max", OptType::kDuration, VIGIL_REF(upload.retry_max_ms), 1000, kMaxI, {},
       "Longest wait between failed attempts (the wait doubles from 1 s)."},
      {"fleet.model_topic", OptType::kString, VIGIL_REF(fleet.model_topic), 0, 0, {},
       "vigil run pulls the fleet model named by a (retained) message on this MQTT topic, as "
       "`vigil models pull --id` does (needs upload.bucket; \"off\": not subscribed). Outside "
       "mqtt.topic_prefix, no wildcards."},
      {"log.level", OptType::kString, VIGIL_REF(log.level), 0, 0,
       {"trace", "debug", "info", "warn", "error"}, "Log level."},
      {"log.format", OptType::kString, VIGIL_REF(log.format), 0, 0, {"text", "json"},
       "text: readable lines; json: one JSON object per line."},
  };
  return kOptions;
}

#undef VIGIL_REF

std::string TomlValue(const Option& o, const Config& cc) {
  Config& c = const_cast<Config&>(cc);  // accessors are shared with the setters
  switch (o.type) {
    case OptType::kString: {
      std::ostringstream os;
      os << toml::value<std::string>(std::get<StrRef>(o.ref)(c));
      return os.str();
    }
    case OptType::kInt:
    case OptType::kBytes:
      return std::to_string(std::get<IntRef>(o.ref)(c));
    case OptType::kDuration: {
      int64_t v = std::get<IntRef>(o.ref)(c);
      // mqtt.* durations are stored in seconds, the others in milliseconds.
      bool seconds = std::string_view(o.key).starts_with("mqtt.");
      return "\"" + FormatDuration(seconds ? v * 1000 : v) + "\"";
    }
    case OptType::kFsync:
      return "\"" + std::string(FsyncPolicyName(std::get<FsyncRef>(o.ref)(c))) + "\"";
    case OptType::kBool:
      return std::get<BoolRef>(o.ref)(c) ? "true" : "false";
    case OptType::kDouble: {
      std::ostringstream os;
      os << toml::value<double>(std::get<DoubleRef>(o.ref)(c));
      return os.str();
    }
    case OptType::kStringList: {
      toml::array arr;
      for (const std::string& v : std::get<StrListRef>(o.ref)(c)) arr.push_back(v);
      std::ostringstream os;
      os << arr;
      return os.str();
    }
  }
  return "";
}

std::string CheckOption(const Option& o, const Config& cc) {
  Config& c = const_cast<Config&>(cc);
  if (o.type == OptType::kString) {
    const std::string& v = std::get<StrRef>(o.ref)(c);
    if (!o.choices.empty() &&
        std::find(o.choices.begin(), o.choices.end(), v) == o.choices.end()) {
      std::string all;
      for (const auto& ch : o.choices) all += (all.empty() ? "" : ", ") + ch;
      return "'" + v + "' is not one of: " + all;
    }
    return "";
  }
  if (o.type == OptType::kFsync || o.type == OptType::kBool || o.type == OptType::kStringList) return "";
  if (o.type == OptType::kDouble) {
    double d = std::get<DoubleRef>(o.ref)(c);
    if (!std::isfinite(d) || d < static_cast<double>(o.min) || d > static_cast<double>(o.max)) {
      std::ostringstream os;
      os << d << " is out of range [" << o.min << ", " << o.max << "]";
      return os.str();
    }
    return "";
  }
  int64_t v = std::get<IntRef>(o.ref)(c);
  if (v < o.min || v > o.max) {
    bool seconds = std::string_view(o.key).starts_with("mqtt.");
    if (o.type == OptType::kDuration) {
      int64_t k = seconds ? 1000 : 1;
      return FormatDuration(v * k) + " is out of range [" + FormatDuration(o.min * k) + ", " +
             (o.max == INT64_MAX ? std::string("inf") : FormatDuration(o.max * k)) + "]";
    }
    return std::to_string(v) + " is out of range [" + std::to_string(o.min) + ", " +
           std::to_string(o.max) + "]";
  }
  return "";
}

}  // namespace config_internal

using namespace config_internal;

namespace {

std::string Where(const std::string& source, const toml::node& n, std::string_view key) {
  return source + ":" + std::to_string(n.source().begin.line) + ": " + std::string(key) + ": ";
}

Result<int64_t> ParseBytes(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || v < 0) return Status::InvalidArgument("expected a size like 65536 or \"64KiB\"");
  std::string_view unit(p, s.data() + s.size() - p);
  int64_t mult = 1;
  if (unit == "" || unit == "B") mult = 1;
  else if (unit == "KiB" || unit == "K") mult = 1024;
  else if (unit == "MiB" || unit == "M") mult = 1024 * 1024;
  else if (unit == "GiB" || unit == "G") mult = int64_t{1} << 30;
  else return Status::InvalidArgument("unknown size unit '" + std::string(unit) + "' (B, KiB, MiB, GiB)");
  if (v > INT64_MAX / mult) return Status::InvalidArgument("'" + std::string(s) + "' is too large");
  return v * mult;
}

// Sets one scalar option from a TOML node; "" on success, else the problem.
std::string SetOption(const Option& o, const toml::node& n, Config& c) {
  switch (o.type) {
    case OptType::kString: {
      auto s = n.value<std::string>();
      if (!n.is_string() || !s) return "expected a string";
      std::get<StrRef>(o.ref)(c) = *s;
      break;
    }
    case OptType::kInt: {
      if (!n.is_integer()) return "expected an integer";
      std::get<IntRef>(o.ref)(c) = *n.value<int64_t>();
      break;
    }
    case OptType::kBytes: {
      if (n.is_integer()) {
        std::get<IntRef>(o.ref)(c) = *n.value<int64_t>();
      } else if (n.is_string()) {
        Result<int64_t> b = ParseBytes(*n.value<std::string>());
        if (!b) return b.error().message();
        std::get<IntRef>(o.ref)(c) = *b;
      } else {
        return "expected a size like 65536 or \"64KiB\"";
      }
      break;
    }
    case OptType::kDuration: {
      if (!n.is_string()) return "expected a duration string like \"30s\", \"5m\", \"7d\"";
      Result<int64_t> d = ParseDuration(*n.value<std::string>());
      if (!d) return d.error().message();
      bool seconds = std::string_view(o.key).starts_with("mqtt.");
      if (seconds && *d % 1000 != 0) return "must be whole seconds";
      std::get<IntRef>(o.ref)(c) = seconds ? *d / 1000 : *d;
      break;
    }
    case OptType::kBool: {
      if (!n.is_boolean()) return "expected true or false";
      std::get<BoolRef>(o.ref)(c) = *n.value<bool>();
      break;
    }
    case OptType::kFsync: {
      auto s = n.value<std::string>();
      if (!n.is_string()) return "expected a string";
      if (*s == "never") std::get<FsyncRef>(o.ref)(c) = FsyncPolicy::kNever;
      else if (*s == "interval") std::get<FsyncRef>(o.ref)(c) = FsyncPolicy::kInterval;
      else if (*s == "always") std::get<FsyncRef>(o.ref)(c) = FsyncPolicy::kAlways;
      else return "'" + *s + "' is not one of: never, interval, always";
      break;
    }
    case OptType::kDouble: {
      if (!n.is_number()) return "expected a number";
      std::get<DoubleRef>(o.ref)(c) = *n.value<double>();
      break;
    }
    case OptType::kStringList: {
      const toml::array* arr = n.as_array();
      if (!arr) return "expected an array of strings";
      std::vector<std::string> values;
      for (const toml::node& item : *arr) {
        if (!item.is_string()) return "expected an array of strings";
        values.push_back(*item.value<std::string>());
      }
      std::get<StrListRef>(o.ref)(c) = std::move(values);
      break;
    }
  }
  return CheckOption(o, c);
}

const Option* FindOption(std::string_view key) {
  for (const Option& o : Options())
    if (key == o.key) return &o;
  return nullptr;
}

void ParseSensors(const toml::array& arr, const std::string& src, Config& c,
                  std::vector<std::string>& errors) {
  c.sensors.clear();
  for (const toml::node& item : arr) {
    const toml::table* t = item.as_table();
    if (!t) {
      errors.push_back(Where(src, item, "sensors") + "each [[sensors]] entry must be a table");
      continue;
    }
    SensorSpec s;
    bool has_min = false, has_max = false;
    for (auto&& [k, v] : *t) {
      std::string key = "sensors." + std::string(k.str());
      if (k == "name" || k == "field") {
        if (!v.is_string()) { errors.push_back(Where(src, v, key) + "expected a string"); continue; }
        (k == "name" ? s.name : s.field) = *v.value<std::string>();
      } else if (k == "min" || k == "max") {
        if (!v.is_number()) { errors.push_back(Where(src, v, key) + "expected a number"); continue; }
        (k == "min" ? s.min : s.max) = *v.value<double>();
        (k == "min" ? has_min : has_max) = true;
      } else {
        errors.push_back(Where(src, v, key) + "unknown key (expected name, field, min, max)");
      }
    }
    if (s.name.empty() || s.field.empty() || !has_min || !has_max) {
      errors.push_back(Where(src, item, "sensors") + "a sensor needs name, field, min and max");
      continue;
    }
    c.sensors.push_back(std::move(s));
  }
}

Result<Aggregate> ParseAggregate(std::string_view s) {
  for (Aggregate a : {Aggregate::kMean, Aggregate::kStd, Aggregate::kMin, Aggregate::kMax,
                      Aggregate::kCount, Aggregate::kLast, Aggregate::kSlope}) {
    if (s == AggregateName(a)) return a;
  }
  return Status::InvalidArgument("'" + std::string(s) +
                                 "' is not one of: mean, std, min, max, count, last");
}

void ParseFeatures(const toml::array& arr, const std::string& src, Config& c,
                   std::vector<std::string>& errors, std::vector<int64_t>& lines) {
  c.features.clear();
  lines.clear();
  for (const toml::node& item : arr) {
    const toml::table* t = item.as_table();
    if (!t) {
      errors.push_back(Where(src, item, "features") + "each [[features]] entry must be a table");
      continue;
    }
    FeatureSpec f;
    int seen = 0;
    for (auto&& [k, v] : *t) {
      std::string key = "features." + std::string(k.str());
      if (k != "name" && k != "sensor" && k != "aggregate" && k != "duration") {
        errors.push_back(Where(src, v, key) + "unknown key (expected name, sensor, aggregate, duration)");
        continue;
      }
      if (!v.is_string()) { errors.push_back(Where(src, v, key) + "expected a string"); continue; }
      std::string s = *v.value<std::string>();
      ++seen;
      if (k == "name") f.name = s;
      else if (k == "sensor") f.sensor = s;
      else if (k == "aggregate") {
        Result<Aggregate> a = ParseAggregate(s);
        if (!a) { errors.push_back(Where(src, v, key) + a.error().message()); --seen; }
        else f.aggregate = *a;
      } else {
        Result<int64_t> d = ParseDuration(s);
        if (!d) { errors.push_back(Where(src, v, key) + d.error().message()); --seen; }
        else f.duration_ms = *d;
      }
    }
    if (seen != 4) {
      errors.push_back(Where(src, item, "features") +
                       "a feature needs name, sensor, aggregate and duration");
      continue;
    }
    c.features.push_back(std::move(f));
    lines.push_back(item.source().begin.line);
  }
}

// One [[feature_templates]] entry: sensors x aggregates x durations.
struct FeatureTemplate {
  const toml::node* node = nullptr;
  std::vector<std::string> sensors;
  std::vector<Aggregate> aggregates;
  std::vector<std::string> durations;  // as written: they name the columns
  std::vector<int64_t> duration_ms;
};

// A non-empty array of strings at t[key], each checked by `check` ("" = fine, else why not).
bool TemplateList(const toml::table& t, const toml::node& item, const char* key, const std::string& src,
                  std::vector<std::string>& out, std::vector<std::string>& errors) {
  const std::string full = std::string("feature_templates.") + key;
  const toml::node* v = t.get(key);
  if (!v) {
    errors.push_back(Where(src, item, "feature_templates") + "a template needs sensors, aggregates and durations "
                     "(each a list of strings); '" + key + "' is missing");
    return false;
  }
  const toml::array* a = v->as_array();
  if (!a || a->empty()) {
    errors.push_back(Where(src, *v, full) + "expected a non-empty list of strings, e.g. [\"5h\", \"24h\"]");
    return false;
  }
  bool ok = true;
  std::set<std::string> seen;
  for (const toml::node& e : *a) {
    if (!e.is_string()) {
      errors.push_back(Where(src, e, full) + "expected a string");
      ok = false;
      continue;
    }
    std::string x = *e.value<std::string>();
    if (!seen.insert(x).second) {
      errors.push_back(Where(src, e, full) + "'" + x + "' is listed twice");
      ok = false;
      continue;
    }
    out.push_back(std::move(x));
  }
  return ok;
}

void ParseFeatureTemplates(const toml::array& arr, const std::string& src, std::vector<FeatureTemplate>& out,
                           std::vector<std::string>& errors) {
  for (const toml::node& item : arr) {
    const toml::table* t = item.as_table();
    if (!t) {
      errors.push_back(Where(src, item, "feature_templates") + "each [[feature_templates]] entry must be a table");
      continue;
    }
    bool ok = true;
    for (auto&& [k, v] : *t) {
      if (k != "sensors" && k != "aggregates" && k != "durations") {
        errors.push_back(Where(src, v, "feature_templates." + std::string(k.str())) +
                         "unknown key (expected sensors, aggregates, durations)");
        ok = false;
      }
    }
    FeatureTemplate ft;
    ft.node = &item;
    std::vector<std::string> aggs;
    ok = TemplateList(*t, item, "sensors", src, ft.sensors, errors) && ok;
    ok = TemplateList(*t, item, "aggregates", src, aggs, errors) && ok;
    ok = TemplateList(*t, item, "durations", src, ft.durations, errors) && ok;
    for (const std::string& a : aggs) {
      Result<Aggregate> g = ParseAggregate(a);
      if (!g) {
        errors.push_back(Where(src, *t->get("aggregates"), "feature_templates.aggregates") + g.error().message());
        ok = false;
      } else {
        ft.aggregates.push_back(*g);
      }
    }
    for (const std::string& d : ft.durations) {
      Result<int64_t> ms = ParseDuration(d);
      if (!ms) {
        errors.push_back(Where(src, *t->get("durations"), "feature_templates.durations") + ms.error().message());
        ok = false;
      } else {
        ft.duration_ms.push_back(*ms);
      }
    }
    if (ok) out.push_back(std::move(ft));
  }
}

// Appends each template's features to c.features (after the [[features]] ones, templates in
// file order, then sensors x aggregates x durations in the order listed). A name or a
// definition (sensor, aggregate, duration) given twice is an error naming both places:
// two columns computing the same numbers only cost space and confuse the model's reader.
void ExpandFeatureTemplates(const std::vector<FeatureTemplate>& templates, const std::vector<int64_t>& explicit_lines,
                            const std::string& src, Config& c, std::vector<std::string>& errors) {
  auto where_of = [&](size_t i) {
    return i < explicit_lines.size() ? "[[features]] at line " + std::to_string(explicit_lines[i])
                                     : "the template at " + c.feature_templates[c.features[i].name];
  };
  auto same = [](const FeatureSpec& a, const FeatureSpec& b) {
    return a.sensor == b.sensor && a.aggregate == b.aggregate && a.duration_ms == b.duration_ms;
  };
  for (const FeatureTemplate& ft : templates) {
    const std::string at = src + ":" + std::to_string(ft.node->source().begin.line);
    for (const std::string& sensor : ft.sensors) {
      if (!c.FindSensor(sensor)) {
        errors.push_back(Where(src, *ft.node, "feature_templates.sensors") + "unknown sensor '" + sensor + "'");
        continue;
      }
      for (Aggregate a : ft.aggregates) {
        for (size_t d = 0; d < ft.durations.size(); ++d) {
          FeatureSpec f{TemplateFeatureName(sensor, a, ft.durations[d]), sensor, a, ft.duration_ms[d]};
          bool clash = false;
          for (size_t i = 0; i < c.features.size() && !clash; ++i) {
            if (c.features[i].name == f.name) {
              errors.push_back(Where(src, *ft.node, "feature_templates") + "expands to '" + f.name +
                               "', which " + where_of(i) + " also defines: remove one of them");
              clash = true;
            } else if (same(c.features[i], f)) {
              errors.push_back(Where(src, *ft.node, "feature_templates") + "'" + f.name + "' (" + sensor + " " +
                               std::string(AggregateName(a)) + " over " + ft.durations[d] +
                               ") computes the same as '" + c.features[i].name + "' of " + where_of(i) +
                               ": remove one of them");
              clash = true;
            }
          }
          if (!clash) {
            c.feature_templates[f.name] = at;
            c.features.push_back(std::move(f));
          }
        }
      }
    }
  }
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

}  // namespace

std::vector<SensorSpec> Config::DefaultSensors() {
  return {{"vibration", "vibration_rms", 0.0, 100.0},
          {"temperature", "temperature_celsius", -50.0, 500.0}};
}

std::vector<FeatureSpec> Config::DefaultFeatures() {
  constexpr int64_t kHour = 3'600'000;
  return {{"vib_mean_5h", "vibration", Aggregate::kMean, 5 * kHour},
          {"vib_std_5h", "vibration", Aggregate::kStd, 5 * kHour},
          {"vib_max_5h", "vibration", Aggregate::kMax, 5 * kHour},
          {"temp_mean_24h", "temperature", Aggregate::kMean, 24 * kHour},
          {"temp_max_24h", "temperature", Aggregate::kMax, 24 * kHour}};
}

const SensorSpec* Config::FindSensor(std::string_view name) const {
  for (const SensorSpec& s : sensors)
    if (s.name == name) return &s;
  return nullptr;
}

Result<Config> ParseConfigText(std::string_view text, const std::string& src, const Config& base) {
  // toml++ 3.3 asserts (aborts a debug build) on a NUL in some places instead of reporting
  // it, so NUL is refused here, with its position (found by fuzzing).
  if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
    const size_t line_start = text.rfind('\n', nul) == std::string_view::npos ? 0 : text.rfind('\n', nul) + 1;
    const auto line = std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(nul), '\n') + 1;
    return Status::InvalidArgument(src + ":" + std::to_string(line) + ":" + std::to_string(nul - line_start + 1) +
                                   ": not valid TOML: a NUL byte (is this a text file?)");
  }
  toml::table root;
  try {
    root = toml::parse(text, src);
  } catch (const toml::parse_error& e) {
    // toml++ quotes the offending text, which may be a line end: escaped, so the
    // problem stays on its own line (found by fuzzing).
    std::string why;
    for (char ch : e.description()) {
      if (ch == '\n') why += "\\n";
      else if (ch == '\r') why += "\\r";
      else why.push_back(ch);
    }
    return Status::InvalidArgument(src + ":" + std::to_string(e.source().begin.line) + ":" +
                                   std::to_string(e.source().begin.column) + ": not valid TOML: " + why);
  }
  Config c = base;
  std::vector<std::string> errors;
  std::vector<int64_t> feature_lines;      // of the file's [[features]], in c.features order
  std::vector<FeatureTemplate> templates;  // expanded once the sensors are known
  bool has_features = false, has_templates = false;
  for (auto&& [k, v] : root) {
    std::string key(k.str());
    if (key == "sensors" || key == "features" || key == "feature_templates") {
      const toml::array* arr = v.as_array();
      if (!arr) {
        errors.push_back(Where(src, v, key) + "expected [[" + key + "]] tables");
        continue;
      }
      if (key == "sensors") {
        ParseSensors(*arr, src, c, errors);
      } else if (key == "features") {
        ParseFeatures(*arr, src, c, errors, feature_lines);
        has_features = true;
      } else {
        ParseFeatureTemplates(*arr, src, templates, errors);
        has_templates = true;
      }
      continue;
    }
    if (const toml::table* section = v.as_table()) {
      for (auto&& [sk, sv] : *section) {
        std::string full = key + "." + std::string(sk.str());
        const Option* o = FindOption(full);
        if (!o && full == "upload.secret_access_key") {
          errors.push_back(Where(src, sv, full) + "the secret key is not read from the config file: put it in a "
                           "file named by upload.secret_key_file (mode 0600) or in VIGIL_S3_SECRET_ACCESS_KEY");
          continue;
        }
        if (!o && full == "mqtt.password") {
          errors.push_back(Where(src, sv, full) + "the password is not read from the config file: put it in a "
                           "file named by mqtt.password_file (mode 0600) or in VIGIL_MQTT_PASSWORD");
          continue;
        }
        if (!o) {
          errors.push_back(Where(src, sv, full) + "unknown key");
          continue;
        }
        if (std::string e = SetOption(*o, sv, c); !e.empty()) errors.push_back(Where(src, sv, full) + e);
      }
      continue;
    }
    const Option* o = FindOption(key);
    if (!o) {
      errors.push_back(Where(src, v, key) + "unknown key");
      continue;
    }
    if (std::string e = SetOption(*o, v, c); !e.empty()) errors.push_back(Where(src, v, key) + e);
  }
  if (has_features || has_templates) c.feature_templates.clear();
  if (has_templates) {
    // Templates, like [[features]], replace the defaults: the file's features are its own.
    if (!has_features) c.features.clear();
    ExpandFeatureTemplates(templates, feature_lines, src, c, errors);
  }
  if (!errors.empty()) {
    // Report in file order: "<src>:<line>: ...".
    auto line_of = [&](const std::string& e) { return std::atol(e.c_str() + src.size() + 1); };
    std::stable_sort(errors.begin(), errors.end(),
                     [&](const std::string& a, const std::string& b) { return line_of(a) < line_of(b); });
    // Keys and values quoted in a problem may hold line ends: one problem, one line.
    for (std::string& e : errors) {
      for (size_t i = 0; (i = e.find_first_of("\r\n", i)) != std::string::npos; i += 2) {
        e.replace(i, 1, e[i] == '\n' ? "\\n" : "\\r");
      }
    }
    return Status::InvalidArgument(Join(errors));
  }
  return c;
}

Result<Config> LoadConfigFile(const std::string& path, const Config& base) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::InvalidArgument(path + ": cannot open config file: " + std::strerror(errno));
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  return ParseConfigText(text, path, base);
}

Result<std::string> ReadSecretFile(const std::string& key, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) {
    return Status::InvalidArgument(key + " " + path + ": " + std::strerror(errno) +
                                   " (it must be readable by the user vigil runs as)");
  }
  char buf[1024];
  std::string line = std::fgets(buf, sizeof buf, f) ? buf : "";
  std::fclose(f);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.empty()) return Status::InvalidArgument(key + " " + path + ": the first line is empty");
  return line;
}

Status CheckConfig(const Config& c) {
  std::vector<std::string> errors;
  for (const Option& o : Options()) {
    if (std::string e = CheckOption(o, c); !e.empty()) errors.push_back(std::string(o.key) + ": " + e);
  }
  if (c.data_dir.empty()) errors.push_back("data_dir: must not be empty");
  if (c.mqtt.host.empty()) errors.push_back("mqtt.host: must not be empty");
  if (c.mqtt.client_id.empty() || c.mqtt.client_id.size() > 23 * 10)
    errors.push_back("mqtt.client_id: must be 1 to 230 characters");
  const std::string& p = c.mqtt.topic_prefix;
  if (p.empty() || p.front() == '/' || p.back() == '/' || p.find_first_of("+#") != std::string::npos)
    errors.push_back("mqtt.topic_prefix: '" + p + "' must be non-empty, without wildcards or a leading/trailing '/'");
  if (c.mqtt.reconnect_min_s > c.mqtt.reconnect_max_s)
    errors.push_back("mqtt.reconnect_min: must not exceed mqtt.reconnect_max");
  if (c.model.test_fraction != 0 && (c.model.test_fraction < 0.05 || c.model.test_fraction > 0.9))
    errors.push_back("model.test_fraction: must be 0 (no evaluation) or between 0.05 and 0.9");
  {
    // The same forms as model::ParseThresholdGoal (model/threshold.h), which trains by them.
    const std::string& g = c.model.threshold_goal;
    const size_t colon = g.find(':');
    const std::string kind = g.substr(0, colon), num = colon == std::string::npos ? "" : g.substr(colon + 1);
    char* end = nullptr;
    const double v = num.empty() ? 0 : std::strtod(num.c_str(), &end);
    const bool number = !num.empty() && end == num.c_str() + num.size() && std::isfinite(v);
    if (!(g == "f1" || (kind == "recall" && number && v > 0 && v <= 1) || (kind == "cost" && number && v > 0)))
      errors.push_back("model.threshold_goal: '" + g + "' is not f1, recall:R (0 < R <= 1) or cost:C (C > 0)");
  }
  // k-fold trains one model per fold: there is no single evaluated model to keep.
  if (c.model.split == "machine_kfold" && !c.model.refit)
    errors.push_back("model.refit: must be true with model.split = \"machine_kfold\" (each fold has its own model; "
                     "the final one fits all label-complete rows)");
  if (c.model.learning_rate <= 0) errors.push_back("model.learning_rate: must be positive");
  if (c.model.rul_cap_ms > 0 && c.model.rul_cap_ms < c.processing.window_ms)
    errors.push_back("model.rul_cap: must be 0ms (off) or at least one window (processing.window = " +
                     FormatDuration(c.processing.window_ms) + ")");
  if (c.model.critical_threshold < c.model.warning_threshold)
    errors.push_back("model.critical_threshold: must not be below model.warning_threshold");
  // MQTT sends a password only with a user name: without one it would be dropped silently.
  if (c.mqtt.username.empty() && (!c.mqtt.password.empty() || !c.mqtt.password_file.empty()))
    errors.push_back("mqtt.username: a password (mqtt.password_file or VIGIL_MQTT_PASSWORD) needs a user name: "
                     "set mqtt.username or VIGIL_MQTT_USERNAME");
  if (c.mqtt.cert_file.empty() != c.mqtt.key_file.empty())
    errors.push_back("mqtt.cert_file, mqtt.key_file: set both or neither");
  if ((!c.mqtt.cert_file.empty()) && c.mqtt.ca_file.empty())
    errors.push_back("mqtt.cert_file: a client certificate needs mqtt.ca_file (TLS)");

  if (!c.upload.bucket.empty()) {
    if (!IsSafeName(c.upload.gateway_id))
      errors.push_back("upload.gateway_id: '" + c.upload.gateway_id +
                       "' must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$ (required with upload.bucket)");
    if (!c.upload.endpoint.starts_with("http://") && !c.upload.endpoint.starts_with("https://"))
      errors.push_back("upload.endpoint: '" + c.upload.endpoint + "' must start with http:// or https://");
    if (c.upload.region.empty()) errors.push_back("upload.region: must not be empty");
    const std::string& up = c.upload.prefix;
    if (!up.empty() && (up.front() == '/' || up.back() == '/'))
      errors.push_back("upload.prefix: '" + up + "' must not start or end with '/'");
  }

  if (const std::string& t = c.fleet.model_topic; !t.empty() && t != "off") {
    const std::string& prefix = c.mqtt.topic_prefix;
    if (t.find_first_of("+#") != std::string::npos || t.front() == '/' || t.back() == '/')
      errors.push_back("fleet.model_topic: '" + t + "' must be a topic without wildcards or a leading/trailing '/' "
                       "(or \"off\")");
    else if (t == prefix || t.starts_with(prefix + "/"))
      errors.push_back("fleet.model_topic: '" + t + "' is under mqtt.topic_prefix '" + prefix +
                       "', which ingest takes as telemetry: choose a topic outside it (default vigil/fleet/model)");
  }

  std::set<std::string> sim_ids;
  if (c.simulate.machines.empty()) errors.push_back("simulate.machines: at least one machine is needed");
  for (const std::string& id : c.simulate.machines) {
    if (!IsSafeName(id))
      errors.push_back("simulate.machines: '" + id + "' must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$");
    if (!sim_ids.insert(id).second) errors.push_back("simulate.machines: '" + id + "' is listed twice");
  }
  if (c.simulate.client_id.empty() || c.simulate.client_id == c.mqtt.client_id)
    errors.push_back("simulate.client_id: must be non-empty and differ from mqtt.client_id");

  static const std::set<std::string> kReserved = {"machine_id", "timestamp_utc", "window_start_ms",
                                                  "label_failure_7d", "seq"};
  if (c.sensors.empty()) errors.push_back("sensors: at least one sensor is needed");
  std::set<std::string> names, columns;
  for (const SensorSpec& s : c.sensors) {
    std::string at = "sensors '" + s.name + "': ";
    if (!IsSafeName(s.name)) errors.push_back(at + "name must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$");
    if (s.name == "failure") errors.push_back(at + "'failure' is reserved for failure events");
    if (!names.insert(s.name).second) errors.push_back(at + "duplicate sensor name");
    if (!IsIdentifier(s.field)) errors.push_back(at + "field '" + s.field + "' must be an identifier ([A-Za-z_][A-Za-z0-9_]*)");
    if (kReserved.count(s.field)) errors.push_back(at + "field '" + s.field + "' is reserved");
    if (!columns.insert(s.field).second) errors.push_back(at + "field '" + s.field + "' used twice");
    if (!std::isfinite(s.min) || !std::isfinite(s.max) || s.min > s.max)
      errors.push_back(at + "min must be <= max, both finite");
  }
  for (const FeatureSpec& f : c.features) {
    std::string at = "features '" + f.name + "': ";
    if (!IsIdentifier(f.name)) errors.push_back(at + "name must be an identifier ([A-Za-z_][A-Za-z0-9_]*)");
    if (kReserved.count(f.name)) errors.push_back(at + "name is reserved");
    if (!columns.insert(f.name).second) errors.push_back(at + "name clashes with another feature or sensor field");
    if (!c.FindSensor(f.sensor)) errors.push_back(at + "unknown sensor '" + f.sensor + "'");
    if (f.duration_ms <= 0) errors.push_back(at + "duration must be positive");
  }
  if (!errors.empty()) return Status::InvalidArgument(Join(errors));
  return Status::Ok();
}

Result<int64_t> ParseDuration(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || v < 0 || p == s.data() + s.size()) {
    return Status::InvalidArgument("'" + std::string(s) +
                                   "' is not a duration (a number and ms, s, m, h or d, e.g. \"5m\")");
  }
  std::string_view unit(p, s.data() + s.size() - p);
  int64_t mult;
  if (unit == "ms") mult = 1;
  else if (unit == "s") mult = 1000;
  else if (unit == "m") mult = 60'000;
  else if (unit == "h") mult = 3'600'000;
  else if (unit == "d") mult = 86'400'000;
  else return Status::InvalidArgument("'" + std::string(s) + "': unknown unit '" + std::string(unit) + "' (ms, s, m, h, d)");
  if (v > INT64_MAX / mult) return Status::InvalidArgument("'" + std::string(s) + "' is too long");
  return v * mult;
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  struct U { int64_t ms; const char* name; };
  for (U u : {U{86'400'000, "d"}, U{3'600'000, "h"}, U{60'000, "m"}, U{1000, "s"}}) {
    if (ms % u.ms == 0) return std::to_string(ms / u.ms) + u.name;
  }
  return std::to_string(ms) + "ms";
}

std::string_view FsyncPolicyName(FsyncPolicy p) {
  switch (p) {
    case FsyncPolicy::kNever: return "never";
    case FsyncPolicy::kInterval: return "interval";
    case FsyncPolicy::kAlways: return "always";
  }
  return "?";
}

std::string FeatureListing(const Config& c) {
  size_t width = 0;
  for (const FeatureSpec& f : c.features) width = std::max(width, f.name.size());
  std::string out;
  for (const FeatureSpec& f : c.features) {
    std::string line = "  " + f.name + std::string(width - f.name.size() + 2, ' ') + f.sensor + " " +
                       std::string(AggregateName(f.aggregate)) + " " + FormatDuration(f.duration_ms);
    if (auto t = c.feature_templates.find(f.name); t != c.feature_templates.end())
      line += "  (template at " + t->second + ")";
    out += line + "\n";
  }
  return out;
}

std::string TemplateFeatureName(std::string_view sensor, Aggregate aggregate, std::string_view duration) {
  std::string name;
  for (char ch : sensor) {
    const bool ident = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
    name.push_back(ident ? ch : '_');
  }
  return name + "_" + std::string(AggregateName(aggregate)) + "_" + std::string(duration);
}

std::string_view AggregateName(Aggregate a) {
  switch (a) {
    case Aggregate::kMean: return "mean";
    case Aggregate::kStd: return "std";
    case Aggregate::kMin: return "min";
    case Aggregate::kMax: return "max";
    case Aggregate::kCount: return "count";
    case Aggregate::kLast: return "last";
    case Aggregate::kSlope: return "slope";
  }
  return "?";
}

}  // namespace vigil
