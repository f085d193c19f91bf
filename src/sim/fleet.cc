#include "sim/fleet.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "common/json_text.h"
#include "common/machine_type.h"
#include "common/timestamp.h"

namespace vigil::sim {
namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr double kPi = 3.14159265358979323846;
// A step change (a sudden defect) happens about once in this much simulated time.
constexpr double kStepMeanMs = 4.0 * kDayMs;
// Temperature follows degradation through a first-order lag with this time constant.
constexpr double kTempLagMs = 3.0 * 3600 * 1000;
// Temperature rise at the failure level (h = 1), and the daily cycle's amplitude, in C.
constexpr double kTempRiseAtFailure = 30.0;
constexpr double kDailyAmplitude = 4.0;
constexpr double kMaxHealth = 10.0;  // keeps values finite whatever the options
// Health of a fresh fleet is uniform in [0, kInitialHealthMax): not every machine is new.
constexpr double kInitialHealthMax = 0.7;

double Round(double v, double scale) { return std::round(v * scale) / scale; }

uint64_t Bits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

double FromBits(uint64_t u) {
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}

double DrawRate(Rng& rng, int64_t mttf_ms) {
  return 1.0 / (static_cast<double>(mttf_ms) * rng.Uniform(0.6, 1.5));
}

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

bool ParseHex(const std::string& s, uint64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, 16);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseInt(const std::string& s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// {"machine_id":"<id>","timestamp_utc":"<ts>", then the caller's fields and "}".
std::string PayloadStart(std::string_view id, std::string_view ts) {
  std::string p = "{\"machine_id\":";
  AppendJsonString(id, &p);
  p += ",\"timestamp_utc\":\"";
  p += ts;
  p += "\",";
  return p;
}

std::string Number(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace

double DeterministicSin(double x) {
  // Reduce to [-pi, pi], then to [-pi/2, pi/2] with sin(pi - x) = sin(x).
  const double two_pi = 2 * kPi;
  x = x - two_pi * std::floor(x / two_pi + 0.5);
  if (x > kPi / 2) x = kPi - x;
  if (x < -kPi / 2) x = -kPi - x;
  const double x2 = x * x;
  // Taylor series to x^11: error below 6e-8 on [-pi/2, pi/2].
  return x * (1 - x2 / 6 * (1 - x2 / 20 * (1 - x2 / 42 * (1 - x2 / 72 * (1 - x2 / 110)))));
}

std::vector<std::string> GeneratedMachineIds(int n) {
  static const char* const kTypes[] = {"PUMP", "FAN", "COMP", "MOTOR"};
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s-%c%02d", kTypes[i % 4], 'A' + i % 26, i + 1);
    ids.push_back(buf);
  }
  return ids;
}

Result<BaseLevel> ParseBaseLevel(std::string_view text) {
  BaseLevel b;
  size_t c1 = text.find(':');
  size_t c2 = c1 == std::string_view::npos ? c1 : text.find(':', c1 + 1);
  auto bad = [&] {
    return Status::InvalidArgument("simulate.base_levels: '" + std::string(text) +
                                   "' is not TYPE:VIBRATION_MM_S:TEMPERATURE_C (e.g. \"PUMP:2.0:55\")");
  };
  if (c2 == std::string_view::npos || c1 == 0) return bad();
  b.type = std::string(text.substr(0, c1));
  std::string v(text.substr(c1 + 1, c2 - c1 - 1)), t(text.substr(c2 + 1));
  char* end = nullptr;
  b.vibration_mm_s = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(b.vibration_mm_s >= 0 && b.vibration_mm_s <= 50)) return bad();
  b.temperature_c = std::strtod(t.c_str(), &end);
  if (t.empty() || *end != '\0' || !(b.temperature_c >= -40 && b.temperature_c <= 200)) return bad();
  return b;
}

std::string_view ExpectedReason(BadKind k) {
  switch (k) {
    case BadKind::kTooLarge: return "too_large";
    case BadKind::kBadJsonSyntax:
    case BadKind::kBadJsonUtf8: return "bad_json";
    case BadKind::kBadTopic: return "bad_topic";
    case BadKind::kBadMachineId: return "bad_machine_id";
    case BadKind::kMachineIdMismatch: return "machine_id_mismatch";
    case BadKind::kBadTimestamp: return "bad_timestamp";
    case BadKind::kTimestampOutOfRange: return "timestamp_out_of_range";
    case BadKind::kBadValue:
    case BadKind::kBadFailureCode: return "bad_value";
    case BadKind::kOutOfRange: return "out_of_range";
    case BadKind::kUnknownSensor: return "unknown_sensor";
  }
  return "?";
}

Result<FleetOptions> FleetOptions::FromConfig(const Config& c) {
  FleetOptions o;
  o.machine_ids = c.simulate.machines;
  for (const std::string& text : c.simulate.base_levels) {
    Result<BaseLevel> b = ParseBaseLevel(text);
    if (!b) return b.error();
    o.base_levels.push_back(std::move(*b));
  }
  o.seed = static_cast<uint64_t>(c.simulate.seed);
  o.interval_ms = c.simulate.interval_ms;
  o.failure_threshold = c.simulate.failure_threshold;
  o.repair_ms = c.simulate.repair_time_ms;
  o.mean_time_to_failure_ms = c.simulate.mean_time_to_failure_ms;
  o.bad_rate = c.simulate.bad_rate;
  o.topic_prefix = c.mqtt.topic_prefix;
  if (const SensorSpec* s = c.FindSensor("vibration")) {
    o.vibration_field = s->field;
    o.vibration_max = s->max;
  } else {
    return Status::InvalidArgument("vigil simulate publishes a 'vibration' sensor, which is not configured");
  }
  if (const SensorSpec* s = c.FindSensor("temperature")) {
    o.temperature_field = s->field;
  } else {
    return Status::InvalidArgument("vigil simulate publishes a 'temperature' sensor, which is not configured");
  }
  o.max_payload_bytes = c.ingest.max_payload_bytes;
  if (o.machine_ids.empty()) return Status::InvalidArgument("simulate: no machines");
  if (o.interval_ms <= 0) return Status::InvalidArgument("simulate.interval must be positive");
  return o;
}

std::string FleetOptions::Fingerprint() const {
  std::ostringstream os;
  os << "seed=" << seed << ";interval=" << interval_ms << ";threshold=" << Hex(Bits(failure_threshold))
     << ";repair=" << repair_ms << ";mttf=" << mean_time_to_failure_ms << ";machines=";
  for (const auto& id : machine_ids) os << id << ",";
  os << ";levels=";
  for (const auto& b : base_levels)
    os << b.type << ":" << Hex(Bits(b.vibration_mm_s)) << ":" << Hex(Bits(b.temperature_c)) << ",";
  std::string s = os.str();
  return Hex(Fnv1a(s.data(), s.size()));
}

const BaseLevel& Fleet::BaseFor(const std::string& id) const {
  static const BaseLevel kDefault{"*", 2.0, 50.0};
  const std::string_view type = MachineType(id);
  const BaseLevel* star = &kDefault;
  for (const BaseLevel& b : options_.base_levels) {
    if (b.type == type) return b;
    if (b.type == "*") star = &b;
  }
  return *star;
}

Result<Fleet> Fleet::Create(const FleetOptions& options, int64_t start_ms) {
  if (options.machine_ids.empty()) return Status::InvalidArgument("the fleet has no machines");
  if (options.interval_ms <= 0) return Status::InvalidArgument("the interval must be positive");
  if (options.mean_time_to_failure_ms <= 0) return Status::InvalidArgument("mean time to failure must be positive");
  Fleet f(options);
  f.next_tick_ms_ = start_ms;
  f.bad_rng_ = Rng(options.seed ^ 0x6261642D72617465ULL);  // "bad-rate"
  for (const std::string& id : options.machine_ids) {
    MachineState m;
    m.id = id;
    m.base = f.BaseFor(id);
    m.rng = Rng(options.seed ^ Fnv1a(id.data(), id.size()));
    m.health = m.rng.Uniform(0, kInitialHealthMax);
    m.rate_per_ms = DrawRate(m.rng, options.mean_time_to_failure_ms);
    m.temp_excess = kTempRiseAtFailure * m.health * m.health;  // in equilibrium
    f.machines_.push_back(std::move(m));
  }
  return f;
}

void Fleet::Step(std::vector<OutMessage>* out) {
  const int64_t tick = next_tick_ms_;
  const size_t first = out->size();
  for (int i = 0; i < static_cast<int>(machines_.size()); ++i) StepMachine(i, tick, out);
  if (options_.bad_rate > 0) {
    const size_t good = out->size() - first;
    for (size_t k = 0; k < good; ++k) {
      if (bad_rng_.Uniform() < options_.bad_rate) AddBad(tick, out);
    }
  }
  next_tick_ms_ += options_.interval_ms;
}

void Fleet::SkipTo(int64_t ms) {
  if (ms <= next_tick_ms_) return;
  const int64_t i = options_.interval_ms;
  next_tick_ms_ += (ms - next_tick_ms_ + i - 1) / i * i;
}

void Fleet::StepMachine(int index, int64_t tick, std::vector<OutMessage>* out) {
  MachineState& m = machines_[index];
  if (m.down_until_ms > 0) {
    if (tick < m.down_until_ms) return;  // down: a stopped machine sends nothing
    // Repaired: a healthy machine again, with a new part that wears at its own rate.
    m.health = 0;
    m.temp_excess = 0;
    m.down_until_ms = 0;
    m.rate_per_ms = DrawRate(m.rng, options_.mean_time_to_failure_ms);
  }
  const double dt = static_cast<double>(options_.interval_ms);
  m.health += m.rate_per_ms * dt * m.rng.Uniform(0.5, 1.5);
  // A step: a sudden defect worth half a day to three days of wear at the machine's rate.
  if (m.rng.Uniform() < dt / kStepMeanMs) m.health += m.rate_per_ms * kDayMs * m.rng.Uniform(0.5, 3.0);
  m.health = std::min(m.health, kMaxHealth);
  const double h2 = m.health * m.health;

  const double threshold = options_.failure_threshold;
  const double base_v = m.base.vibration_mm_s;
  const double vib_mean = base_v + (threshold - base_v) * h2;
  double vib = vib_mean + m.rng.Normal() * (0.04 + 0.03 * vib_mean);
  vib = Round(std::max(vib, 0.05), 100);

  const double alpha = dt / (kTempLagMs + dt);
  m.temp_excess += (kTempRiseAtFailure * std::min(h2, 2.0) - m.temp_excess) * alpha;
  const int64_t time_of_day = ((tick % kDayMs) + kDayMs) % kDayMs;
  const double daily =
      kDailyAmplitude * DeterministicSin(2 * kPi * (static_cast<double>(time_of_day) / kDayMs - 0.375));
  double temp = m.base.temperature_c + m.temp_excess + daily + m.rng.Normal() * 0.3;
  temp = Round(temp, 10);

  const uint64_t jitter_max = static_cast<uint64_t>(std::min<int64_t>(options_.interval_ms / 5, 250));
  const int64_t ts_v = tick + static_cast<int64_t>(m.rng.Below(jitter_max + 1));
  const int64_t ts_t = tick + static_cast<int64_t>(m.rng.Below(jitter_max + 1));
  m.last_vibration = vib;
  m.last_temperature = temp;

  const std::string base_topic = options_.topic_prefix + "/" + m.id;
  char ts[kTimestampLen];
  FormatTimestampMs(ts_v, ts);
  const std::string_view ts_v_text(ts, kTimestampLen);
  OutMessage v{base_topic + "/telemetry/vibration",
               PayloadStart(m.id, ts_v_text) + "\"" + options_.vibration_field + "\":" + Number(vib, 2) + "}",
               MessageClass::kReading, index};
  std::string failure_payload;
  if (vib >= threshold) {
    failure_payload = PayloadStart(m.id, ts_v_text) + "\"codigo_evento\":\"" + kVibrationFailureCode + "\"}";
  }
  out->push_back(std::move(v));
  FormatTimestampMs(ts_t, ts);
  out->push_back(OutMessage{
      base_topic + "/telemetry/temperature",
      PayloadStart(m.id, std::string_view(ts, kTimestampLen)) + "\"" + options_.temperature_field +
          "\":" + Number(temp, 1) + "}",
      MessageClass::kReading, index});
  if (!failure_payload.empty()) {
    out->push_back(OutMessage{base_topic + "/event/failure", std::move(failure_payload),
                              MessageClass::kFailure, index});
    ++m.failures;
    // Down from the failure on; the first tick at or after down_until brings it back.
    m.down_until_ms = std::max<int64_t>(tick + options_.repair_ms, tick + 1);
  }
}

void Fleet::AddBad(int64_t tick, std::vector<OutMessage>* out) {
  const BadKind kind = static_cast<BadKind>(bad_count_++ % kBadKindCount);
  const int index = static_cast<int>(bad_rng_.Below(machines_.size()));
  const std::string& id = machines_[index].id;
  const std::string ts = FormatTimestampMs(tick);
  const std::string telemetry = options_.topic_prefix + "/" + id + "/telemetry/";
  const std::string vib_field = "\"" + options_.vibration_field + "\":";
  OutMessage m{telemetry + "vibration", "", MessageClass::kBad, index, kind};
  switch (kind) {
    case BadKind::kTooLarge: {
      m.payload = PayloadStart(id, ts) + vib_field + "1.00,\"padding\":\"";
      const size_t target = static_cast<size_t>(options_.max_payload_bytes) + 1;
      if (m.payload.size() + 2 < target) m.payload.append(target - m.payload.size() - 2, 'x');
      m.payload += "\"}";
      break;
    }
    case BadKind::kBadJsonSyntax:
      m.payload = PayloadStart(id, ts) + vib_field;  // cut off
      break;
    case BadKind::kBadJsonUtf8:
      m.payload = PayloadStart(id, ts) + vib_field + "1.00,\"note\":\"\xff\xfe\"}";
      break;
    case BadKind::kBadTopic:
      // Matches the daemon's subscription <prefix>/+/event/+ (a topic outside it would
      // never reach the validator), but is not one of the contract's shapes.
      m.topic = options_.topic_prefix + "/" + id + "/event/maintenance";
      m.payload = PayloadStart(id, ts) + "\"codigo_evento\":\"INSPECAO\"}";
      break;
    case BadKind::kBadMachineId:
      m.topic = options_.topic_prefix + "/bad id!/telemetry/vibration";
      m.payload = PayloadStart("bad id!", ts) + vib_field + "1.00}";
      break;
    case BadKind::kMachineIdMismatch:
      m.payload = PayloadStart("OTHER-Z99", ts) + vib_field + "1.00}";
      break;
    case BadKind::kBadTimestamp:
      m.payload = PayloadStart(id, ts.substr(0, ts.size() - 1)) + vib_field + "1.00}";  // no zone
      break;
    case BadKind::kTimestampOutOfRange:
      m.payload = PayloadStart(id, "1999-12-31T23:59:59.000Z") + vib_field + "1.00}";
      break;
    case BadKind::kBadValue:
      m.payload = PayloadStart(id, ts) + vib_field + "\"high\"}";
      break;
    case BadKind::kBadFailureCode:
      m.topic = options_.topic_prefix + "/" + id + "/event/failure";
      m.payload = PayloadStart(id, ts) + "\"codigo_evento\":\"\"}";
      break;
    case BadKind::kOutOfRange:
      m.payload = PayloadStart(id, ts) + vib_field + Number(options_.vibration_max + 100, 1) + "}";
      break;
    case BadKind::kUnknownSensor:
      m.topic = telemetry + "humidity";
      m.payload = PayloadStart(id, ts) + "\"humidity\":40.0}";
      break;
  }
  out->push_back(std::move(m));
}

// The state document, one record per line:
//   vigil-simulate-state 1
//   fingerprint <hex>
//   next_tick_ms <int>
//   bad <rng s0..s3 hex> <count>
//   machine <id> <rng s0..s3 hex> <health> <rate> <temp_excess> <down_until_ms> <failures>
//           <last_vibration> <last_temperature>          (doubles as hex bit patterns)
//   end
// Doubles travel as their bit patterns so a restore continues bit for bit.
std::string Fleet::SaveState() const {
  std::ostringstream os;
  os << "vigil-simulate-state 1\n"
     << "fingerprint " << options_.Fingerprint() << "\n"
     << "next_tick_ms " << next_tick_ms_ << "\n"
     << "bad";
  for (uint64_t w : bad_rng_.state()) os << " " << Hex(w);
  os << " " << bad_count_ << "\n";
  for (const MachineState& m : machines_) {
    os << "machine " << m.id;
    for (uint64_t w : m.rng.state()) os << " " << Hex(w);
    os << " " << Hex(Bits(m.health)) << " " << Hex(Bits(m.rate_per_ms)) << " "
       << Hex(Bits(m.temp_excess)) << " " << m.down_until_ms << " " << m.failures << " "
       << Hex(Bits(m.last_vibration)) << " " << Hex(Bits(m.last_temperature)) << "\n";
  }
  os << "end\n";
  return os.str();
}

Status Fleet::RestoreState(std::string_view text) {
  std::istringstream in{std::string(text)};
  auto corrupt = [](const std::string& why) {
    return Status::Corruption("simulator state: " + why);
  };
  std::string line, word;
  if (!std::getline(in, line) || line != "vigil-simulate-state 1") return corrupt("unknown format or version");
  if (!std::getline(in, line) || line != "fingerprint " + options_.Fingerprint()) {
    return Status::InvalidArgument("simulator state was saved with other options (seed, machines, interval, "
                                   "threshold, repair time, base levels or mean time to failure)");
  }
  int64_t next_tick = 0;
  if (!std::getline(in, line) || !line.starts_with("next_tick_ms ") || !ParseInt(line.substr(13), &next_tick))
    return corrupt("bad next_tick_ms");

  auto read_words = [](const std::string& l) {
    std::vector<std::string> w;
    std::istringstream ls(l);
    for (std::string x; ls >> x;) w.push_back(x);
    return w;
  };
  auto read_rng = [](const std::vector<std::string>& w, size_t at, std::array<uint64_t, 4>* s) {
    for (int i = 0; i < 4; ++i)
      if (!ParseHex(w[at + i], &(*s)[i])) return false;
    return true;
  };
  if (!std::getline(in, line)) return corrupt("missing bad record");
  std::vector<std::string> w = read_words(line);
  std::array<uint64_t, 4> bad_state{};
  int64_t bad_count = 0;
  if (w.size() != 6 || w[0] != "bad" || !read_rng(w, 1, &bad_state) || !ParseInt(w[5], &bad_count))
    return corrupt("bad 'bad' record");

  std::vector<MachineState> machines = machines_;
  for (MachineState& m : machines) {
    if (!std::getline(in, line)) return corrupt("missing machine " + m.id);
    w = read_words(line);
    std::array<uint64_t, 4> rs{};
    uint64_t health, rate, temp, last_v, last_t;
    int64_t down, failures;
    if (w.size() != 13 || w[0] != "machine" || w[1] != m.id || !read_rng(w, 2, &rs) ||
        !ParseHex(w[6], &health) || !ParseHex(w[7], &rate) || !ParseHex(w[8], &temp) ||
        !ParseInt(w[9], &down) || !ParseInt(w[10], &failures) || !ParseHex(w[11], &last_v) ||
        !ParseHex(w[12], &last_t)) {
      return corrupt("bad record for machine " + m.id);
    }
    m.rng.set_state(rs);
    m.health = FromBits(health);
    m.rate_per_ms = FromBits(rate);
    m.temp_excess = FromBits(temp);
    m.down_until_ms = down;
    m.failures = static_cast<uint64_t>(failures);
    m.last_vibration = FromBits(last_v);
    m.last_temperature = FromBits(last_t);
  }
  if (!std::getline(in, line) || line != "end") return corrupt("missing end marker (truncated?)");
  machines_ = std::move(machines);
  bad_rng_.set_state(bad_state);
  bad_count_ = static_cast<uint64_t>(bad_count);
  next_tick_ms_ = next_tick;
  return Status::Ok();
}

}  // namespace vigil::sim
