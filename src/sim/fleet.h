// Fleet: the simulated machines, their hidden degradation, and the contract's messages
// (contract §1) they publish. Pure logic: no clock, no network, no files; simulated time
// is the tick counter, so tests step weeks in milliseconds.
//
// Model, per machine and tick (one tick = FleetOptions::interval_ms of simulated time):
// - health h >= 0 (0 = new) grows at the machine's own random rate (drawn around
//   1 / mean_time_to_failure), with a per-tick jitter and, every 4 days on average, a
//   step change (a sudden defect worth 0.5 to 3 days of wear). h = 1 is where the mean
//   vibration reaches the failure threshold.
// - vibration (mm/s RMS) = base + (threshold - base) * h^2 + noise.
// - temperature (C) = base + a lagged (first-order, 3 h) rise with h^2 + a daily cycle
//   (peak 15:00 UTC) + noise.
// - each reading has its own timestamp: the tick plus a small independent jitter.
// - a published vibration value >= threshold is a failure: an event/failure message with
//   FALHA_VIBRACAO_ELEVADA at the reading's timestamp; the machine is then down (no
//   readings) for repair_ms and comes back healthy (h = 0).
// Randomness: one Rng per machine (seeded from the seed and the machine id, so adding a
// machine does not change the others) and one for malformed messages (so --bad-rate does
// not change the good stream). Only +, -, *, / on doubles: the same seed, options and
// period give byte-identical payloads on every machine.
//
// State: SaveState() is a small text document; RestoreState() on a Fleet made with the
// same options continues the identical trajectory. Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/prng.h"
#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::sim {

inline constexpr char kVibrationFailureCode[] = "FALHA_VIBRACAO_ELEVADA";

struct BaseLevel {
  std::string type;             // id prefix before the first '-', or "*"
  double vibration_mm_s = 2.0;  // healthy vibration
  double temperature_c = 50.0;  // healthy temperature
};

// The first n ids of the default naming: PUMP-A01, FAN-B02, COMP-C03, MOTOR-D04,
// PUMP-E05, FAN-F06, ... (types cycle; the letter wraps after Z, the number keeps them unique).
std::vector<std::string> GeneratedMachineIds(int n);

// "PUMP:2.0:55" -> BaseLevel.
Result<BaseLevel> ParseBaseLevel(std::string_view text);

// The malformed messages of --bad-rate: one per quarantine reason of the contract (and
// two variants of bad_json and bad_value).
enum class BadKind {
  kTooLarge,
  kBadJsonSyntax,
  kBadJsonUtf8,
  kBadTopic,
  kBadMachineId,
  kMachineIdMismatch,
  kBadTimestamp,
  kTimestampOutOfRange,
  kBadValue,
  kBadFailureCode,
  kOutOfRange,
  kUnknownSensor,
};
inline constexpr int kBadKindCount = static_cast<int>(BadKind::kUnknownSensor) + 1;

// The contract's reason code the validator gives this kind, e.g. "bad_json".
std::string_view ExpectedReason(BadKind k);

struct FleetOptions {
  std::vector<std::string> machine_ids;
  std::vector<BaseLevel> base_levels;
  uint64_t seed = 1;
  int64_t interval_ms = 1000;
  double failure_threshold = 7.1;
  int64_t repair_ms = 8LL * 3600 * 1000;
  int64_t mean_time_to_failure_ms = 14LL * 86'400'000;
  double bad_rate = 0;
  std::string topic_prefix = "industrial/machine";
  std::string vibration_field = "vibration_rms";
  std::string temperature_field = "temperature_celsius";
  double vibration_max = 100;           // for out_of_range messages
  int64_t max_payload_bytes = 64 * 1024;  // for too_large messages

  // From the [simulate], [mqtt], [ingest] and [[sensors]] sections.
  static Result<FleetOptions> FromConfig(const Config& c);
  // A digest of every option that shapes the trajectory (not bad_rate): a saved state
  // is only continued by a fleet with the same fingerprint.
  std::string Fingerprint() const;
};

enum class MessageClass { kReading, kFailure, kBad };

struct OutMessage {
  std::string topic;
  std::string payload;
  MessageClass cls = MessageClass::kReading;
  int machine = -1;                   // index into machines(); -1 for some bad messages
  BadKind bad = BadKind::kTooLarge;   // cls == kBad only
  bool retained = false;              // the broker keeps it for later subscribers
};

struct MachineState {
  std::string id;
  BaseLevel base;
  Rng rng;
  double health = 0;
  double rate_per_ms = 0;     // health growth, per ms of simulated time
  double temp_excess = 0;     // lagged temperature rise above base, C
  int64_t down_until_ms = 0;  // > 0 while down for repair
  uint64_t failures = 0;      // since the trajectory began (persisted)
  double last_vibration = 0;  // the last published values (for summaries and tests)
  double last_temperature = 0;
};

class Fleet {
 public:
  // A new trajectory whose first tick is at start_ms.
  static Result<Fleet> Create(const FleetOptions& options, int64_t start_ms);

  // Appends the messages of the tick at next_tick_ms() to *out, then advances one
  // interval. Messages of one tick are in a fixed order (machines in order; vibration,
  // temperature, then the failure event; malformed ones last).
  void Step(std::vector<OutMessage>* out);

  // Moves the next tick to the first multiple of the interval, counted from the current
  // tick, at or after ms, without simulating the gap (health is kept). No-op if ms is not
  // later than the next tick.
  void SkipTo(int64_t ms);

  int64_t next_tick_ms() const { return next_tick_ms_; }
  const std::vector<MachineState>& machines() const { return machines_; }
  const FleetOptions& options() const { return options_; }

  std::string SaveState() const;
  // Replaces this fleet's state by a saved one. Fails (and changes nothing) when the text
  // is malformed or was saved with other options (fingerprint).
  Status RestoreState(std::string_view text);

 private:
  explicit Fleet(FleetOptions options) : options_(std::move(options)) {}
  void StepMachine(int index, int64_t tick_ms, std::vector<OutMessage>* out);
  void AddBad(int64_t tick_ms, std::vector<OutMessage>* out);
  const BaseLevel& BaseFor(const std::string& id) const;

  FleetOptions options_;
  std::vector<MachineState> machines_;
  Rng bad_rng_;
  uint64_t bad_count_ = 0;  // the next malformed message's kind is bad_count_ % kinds
  int64_t next_tick_ms_ = 0;
};

}  // namespace vigil::sim
