#include "sim/fleet.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <variant>

#include "common/timestamp.h"
#include "ingest/validator.h"
#include "test_util.h"

namespace vigil::sim {
namespace {

constexpr int64_t kStart = 1'760'486'400'000;  // 2025-10-15T00:00:00Z
constexpr int64_t kMinute = 60'000;
constexpr int64_t kDay = 86'400'000;

FleetOptions Defaults() {
  Result<FleetOptions> o = FleetOptions::FromConfig(Config{});
  EXPECT_TRUE(o.has_value());
  return *o;
}

// The number after "<field>": in a payload the simulator wrote.
double ValueOf(const std::string& payload, const std::string& field) {
  size_t at = payload.find("\"" + field + "\":");
  EXPECT_NE(at, std::string::npos) << payload;
  return std::strtod(payload.c_str() + at + field.size() + 3, nullptr);
}

int64_t TimestampOf(const std::string& payload) {
  size_t at = payload.find("\"timestamp_utc\":\"");
  Result<int64_t> ts = ParseTimestampMs(payload.substr(at + 17, kTimestampLen));
  EXPECT_TRUE(ts.has_value()) << payload;
  return ts ? *ts : -1;
}

std::vector<std::vector<OutMessage>> RunTicks(Fleet& f, int ticks) {
  std::vector<std::vector<OutMessage>> out(ticks);
  for (int i = 0; i < ticks; ++i) f.Step(&out[i]);
  return out;
}

TEST(FleetTest, DefaultFleetAndGeneratedIds) {
  FleetOptions o = Defaults();
  EXPECT_EQ(o.machine_ids, (std::vector<std::string>{"PUMP-A01", "FAN-B02", "COMP-C03", "MOTOR-D04", "PUMP-E05"}));
  EXPECT_EQ(GeneratedMachineIds(5), o.machine_ids);
  std::vector<std::string> many = GeneratedMachineIds(60);
  EXPECT_EQ(many[5], "FAN-F06");
  EXPECT_EQ(std::set<std::string>(many.begin(), many.end()).size(), 60u);
  Result<Fleet> f = Fleet::Create(o, kStart);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->machines()[1].base.type, "FAN");
  EXPECT_EQ(f->machines()[1].base.vibration_mm_s, 1.5);
  EXPECT_EQ(f->machines()[2].base.temperature_c, 75.0);
}

TEST(FleetTest, BaseLevelsParse) {
  Result<BaseLevel> b = ParseBaseLevel("PUMP:2.5:60");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->type, "PUMP");
  EXPECT_EQ(b->vibration_mm_s, 2.5);
  EXPECT_EQ(b->temperature_c, 60.0);
  for (const char* bad : {"PUMP", "PUMP:2.5", ":1:2", "PUMP:x:60", "PUMP:2.5:", "PUMP:-1:60", "PUMP:2:999"}) {
    EXPECT_FALSE(ParseBaseLevel(bad).has_value()) << bad;
  }
}

TEST(FleetTest, DeterministicSinMatchesLibm) {
  for (double x = -20; x < 20; x += 0.01) EXPECT_NEAR(DeterministicSin(x), std::sin(x), 1e-6) << x;
}

// Over 90 simulated days: a failure event comes in the same tick as a vibration reading at
// or above the threshold, with its timestamp, and never otherwise.
TEST(FleetTest, FailureExactlyWhenVibrationCrossesThreshold) {
  FleetOptions o = Defaults();
  o.interval_ms = kMinute;
  Result<Fleet> f = Fleet::Create(o, kStart);
  ASSERT_TRUE(f.has_value());
  std::map<int, int> failures;
  uint64_t above = 0;
  for (int64_t t = 0; t < 90 * kDay / kMinute; ++t) {
    std::vector<OutMessage> tick;
    f->Step(&tick);
    std::map<int, const OutMessage*> vib, fail;
    for (const OutMessage& m : tick) {
      if (m.cls == MessageClass::kFailure) fail[m.machine] = &m;
      if (m.cls == MessageClass::kReading && m.topic.ends_with("/vibration")) vib[m.machine] = &m;
    }
    for (auto& [machine, v] : vib) {
      const double value = ValueOf(v->payload, "vibration_rms");
      const bool crossed = value >= o.failure_threshold;
      above += crossed;
      ASSERT_EQ(crossed, fail.count(machine) == 1) << v->payload;
      if (crossed) {
        EXPECT_EQ(TimestampOf(fail[machine]->payload), TimestampOf(v->payload));
        EXPECT_NE(fail[machine]->payload.find("\"codigo_evento\":\"FALHA_VIBRACAO_ELEVADA\""), std::string::npos);
        ++failures[machine];
      }
    }
    for (auto& [machine, e] : fail) ASSERT_EQ(vib.count(machine), 1u) << e->payload;
  }
  EXPECT_GE(failures.size(), 4u) << "most machines should fail within 90 days";
  EXPECT_EQ(above, static_cast<uint64_t>(failures[0] + failures[1] + failures[2] + failures[3] + failures[4]));
  for (size_t i = 0; i < f->machines().size(); ++i) EXPECT_EQ(f->machines()[i].failures, static_cast<uint64_t>(failures[static_cast<int>(i)]));
}

TEST(FleetTest, NoFailureWhenThresholdIsNeverReached) {
  FleetOptions o = Defaults();
  o.interval_ms = kMinute;
  o.mean_time_to_failure_ms = 10'000 * kDay;  // wears far too slowly to reach it
  Result<Fleet> f = Fleet::Create(o, kStart);
  ASSERT_TRUE(f.has_value());
  for (int64_t t = 0; t < 30 * kDay / kMinute; ++t) {
    std::vector<OutMessage> tick;
    f->Step(&tick);
    for (const OutMessage& m : tick) {
      ASSERT_NE(m.cls, MessageClass::kFailure) << m.payload;
      if (m.topic.ends_with("/vibration")) {
        ASSERT_LT(ValueOf(m.payload, "vibration_rms"), o.failure_threshold);
      }
    }
  }
}

// After a failure: no readings for repair_time, then a healthy machine (low vibration).
// With default settings failures are days apart and a 7-day label has both classes.
TEST(FleetTest, RepairResetsHealthAndFailuresAreDaysApart) {
  FleetOptions o = Defaults();
  o.interval_ms = kMinute;
  Result<Fleet> f = Fleet::Create(o, kStart);
  ASSERT_TRUE(f.has_value());
  std::map<int, std::vector<int64_t>> failure_ts;
  std::map<int, int64_t> last_reading_tick;
  std::map<int, int64_t> down_since;  // tick of the failure, while down
  int repairs_checked = 0;
  for (int64_t t = 0; t < 120 * kDay / kMinute; ++t) {
    const int64_t tick_ms = f->next_tick_ms();
    std::vector<OutMessage> tick;
    f->Step(&tick);
    std::set<int> reporting;
    for (const OutMessage& m : tick) {
      if (m.cls == MessageClass::kFailure) {
        failure_ts[m.machine].push_back(TimestampOf(m.payload));
        down_since[m.machine] = tick_ms;
      } else if (m.topic.ends_with("/vibration")) {
        reporting.insert(m.machine);
        if (down_since.count(m.machine) && down_since[m.machine] != tick_ms) {
          // First reading after a failure: exactly when the repair time is over, healthy.
          EXPECT_EQ(tick_ms, down_since[m.machine] + o.repair_ms);
          EXPECT_LT(f->machines()[m.machine].health, 0.05);
          EXPECT_LT(ValueOf(m.payload, "vibration_rms"), f->machines()[m.machine].base.vibration_mm_s + 1.0);
          down_since.erase(m.machine);
          ++repairs_checked;
        }
      }
    }
    for (auto& [machine, since] : down_since) {
      if (since != tick_ms) {
        EXPECT_EQ(reporting.count(machine), 0u) << "machine " << machine << " reports while down";
      }
    }
  }
  EXPECT_GE(repairs_checked, 5);
  int64_t hours_positive = 0, hours_negative = 0;
  for (auto& [machine, ts] : failure_ts) {
    for (size_t i = 1; i < ts.size(); ++i) EXPECT_GE(ts[i] - ts[i - 1], 3 * kDay) << "machine " << machine;
    for (int64_t h = kStart; h < kStart + 113 * kDay; h += 3'600'000) {
      bool positive = false;
      for (int64_t x : ts) positive |= x > h && x <= h + 7 * kDay;
      (positive ? hours_positive : hours_negative) += 1;
    }
  }
  EXPECT_GT(hours_positive, 0);
  EXPECT_GT(hours_negative, 0);
  const double share = static_cast<double>(hours_positive) / static_cast<double>(hours_positive + hours_negative);
  EXPECT_GT(share, 0.2);
  EXPECT_LT(share, 0.9);
}

TEST(FleetTest, ValuesStayInTheContractsRanges) {
  FleetOptions o = Defaults();
  o.interval_ms = 5 * kMinute;
  Result<Fleet> f = Fleet::Create(o, kStart);
  ASSERT_TRUE(f.has_value());
  for (const auto& tick : RunTicks(*f, static_cast<int>(60 * kDay / o.interval_ms))) {
    for (const OutMessage& m : tick) {
      if (m.topic.ends_with("/vibration")) {
        double v = ValueOf(m.payload, "vibration_rms");
        EXPECT_GT(v, 0);
        EXPECT_LT(v, 11.2);
      } else if (m.topic.ends_with("/temperature")) {
        double v = ValueOf(m.payload, "temperature_celsius");
        EXPECT_GE(v, 20);
        EXPECT_LE(v, 150);
      }
    }
  }
}

TEST(FleetTest, SameSeedSameBytesOtherSeedOtherBytes) {
  FleetOptions o = Defaults();
  o.bad_rate = 0.05;
  Result<Fleet> a = Fleet::Create(o, kStart), b = Fleet::Create(o, kStart);
  o.seed = 2;
  Result<Fleet> c = Fleet::Create(o, kStart);
  ASSERT_TRUE(a && b && c);
  auto ta = RunTicks(*a, 5000), tb = RunTicks(*b, 5000), tc = RunTicks(*c, 5000);
  std::string sa, sb, sc;
  for (int i = 0; i < 5000; ++i) {
    for (auto& m : ta[i]) sa += m.topic + " " + m.payload + "\n";
    for (auto& m : tb[i]) sb += m.topic + " " + m.payload + "\n";
    for (auto& m : tc[i]) sc += m.topic + " " + m.payload + "\n";
  }
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
  // Pins the stream across compilers and libraries: uses no libm beyond round/floor and
  // no std:: distributions. Update deliberately when the model changes.
  EXPECT_EQ(Fnv1a(sa.data(), sa.size()), 0xf6e9121e18c8a1afULL) << std::hex << Fnv1a(sa.data(), sa.size());
  EXPECT_EQ(ta[0][0].topic, "industrial/machine/PUMP-A01/telemetry/vibration");
  EXPECT_EQ(ta[0][0].payload.substr(0, 62), R"({"machine_id":"PUMP-A01","timestamp_utc":"2025-10-15T00:00:00.)");
}

TEST(FleetTest, AddingAMachineDoesNotChangeTheOthers) {
  FleetOptions o = Defaults();
  Result<Fleet> a = Fleet::Create(o, kStart);
  o.machine_ids.push_back("FAN-Z99");
  Result<Fleet> b = Fleet::Create(o, kStart);
  ASSERT_TRUE(a && b);
  auto ta = RunTicks(*a, 1000), tb = RunTicks(*b, 1000);
  for (int i = 0; i < 1000; ++i) {
    std::vector<std::string> pa, pb;
    for (auto& m : ta[i]) pa.push_back(m.payload);
    for (auto& m : tb[i]) if (m.payload.find("FAN-Z99") == std::string::npos) pb.push_back(m.payload);
    ASSERT_EQ(pa, pb) << "tick " << i;
  }
}

TEST(FleetTest, BadRateDoesNotChangeTheGoodStream) {
  FleetOptions o = Defaults();
  Result<Fleet> a = Fleet::Create(o, kStart);
  o.bad_rate = 0.3;
  Result<Fleet> b = Fleet::Create(o, kStart);
  ASSERT_TRUE(a && b);
  auto ta = RunTicks(*a, 2000), tb = RunTicks(*b, 2000);
  size_t bad = 0;
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::string> pa, pb;
    for (auto& m : ta[i]) pa.push_back(m.payload);
    for (auto& m : tb[i]) {
      if (m.cls == MessageClass::kBad) ++bad;
      else pb.push_back(m.payload);
    }
    ASSERT_EQ(pa, pb) << "tick " << i;
  }
  EXPECT_NEAR(static_cast<double>(bad), 0.3 * 2000 * 10, 0.3 * 2000 * 10 * 0.1);
}

// Saved at any point and restored into a new Fleet, the trajectory continues bit for bit.
TEST(FleetTest, SaveAndRestoreContinueTheIdenticalTrajectory) {
  FleetOptions o = Defaults();
  o.interval_ms = kMinute;
  o.bad_rate = 0.01;
  Result<Fleet> straight = Fleet::Create(o, kStart);
  Result<Fleet> first = Fleet::Create(o, kStart);
  ASSERT_TRUE(straight && first);
  const int kBefore = static_cast<int>(20 * kDay / kMinute), kAfter = static_cast<int>(20 * kDay / kMinute);
  auto expected = RunTicks(*straight, kBefore + kAfter);
  RunTicks(*first, kBefore);
  const std::string saved = first->SaveState();
  Result<Fleet> second = Fleet::Create(o, kStart + 12345 * kMinute);  // another start: replaced by the state
  ASSERT_TRUE(second.has_value());
  ASSERT_OK(second->RestoreState(saved));
  EXPECT_EQ(second->SaveState(), saved);
  EXPECT_EQ(second->next_tick_ms(), kStart + kBefore * kMinute);
  auto continued = RunTicks(*second, kAfter);
  uint64_t failures_after = 0;
  for (int i = 0; i < kAfter; ++i) {
    ASSERT_EQ(continued[i].size(), expected[kBefore + i].size()) << "tick " << i;
    for (size_t k = 0; k < continued[i].size(); ++k) {
      ASSERT_EQ(continued[i][k].topic, expected[kBefore + i][k].topic);
      ASSERT_EQ(continued[i][k].payload, expected[kBefore + i][k].payload);
      failures_after += continued[i][k].cls == MessageClass::kFailure;
    }
  }
  EXPECT_GT(failures_after, 0u) << "the continued part should include failures";
  EXPECT_EQ(second->SaveState(), straight->SaveState());
}

TEST(FleetTest, RestoreRefusesOtherOptionsAndDamagedState) {
  FleetOptions o = Defaults();
  Result<Fleet> f = Fleet::Create(o, kStart);
  ASSERT_TRUE(f.has_value());
  RunTicks(*f, 100);
  const std::string saved = f->SaveState();
  const std::string before = f->SaveState();

  FleetOptions other = o;
  other.seed = 99;
  Result<Fleet> g = Fleet::Create(other, kStart);
  Status s = g->RestoreState(saved);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.message();

  Result<Fleet> h = Fleet::Create(o, kStart);
  const std::string pristine = h->SaveState();
  for (size_t cut : {size_t{0}, size_t{10}, saved.size() / 2, saved.size() - 4}) {
    Status c = h->RestoreState(saved.substr(0, cut));
    EXPECT_FALSE(c.ok()) << "cut at " << cut;
    EXPECT_EQ(h->SaveState(), pristine) << "a failed restore must change nothing";
  }
  std::string garbled = saved;
  garbled[garbled.find("machine FAN-B02") + 20] = 'g';
  EXPECT_EQ(h->RestoreState(garbled).code(), StatusCode::kCorruption);
  EXPECT_EQ(f->SaveState(), before);
}

TEST(FleetTest, SkipToKeepsHealthAndAlignsToTheInterval) {
  FleetOptions o = Defaults();
  o.interval_ms = kMinute;
  Result<Fleet> f = Fleet::Create(o, kStart);
  RunTicks(*f, 10);
  const double health = f->machines()[0].health;
  f->SkipTo(kStart + 3 * kDay + 30'000);
  EXPECT_EQ(f->next_tick_ms(), kStart + 3 * kDay + kMinute);
  EXPECT_EQ(f->machines()[0].health, health);
  f->SkipTo(kStart);  // never backwards
  EXPECT_EQ(f->next_tick_ms(), kStart + 3 * kDay + kMinute);
}

// Every good message passes the daemon's validator; every malformed kind is produced and
// rejected with the contract's reason for it.
TEST(FleetTest, EveryBadKindIsProducedAndRejectedWithItsReason) {
  Config config;
  Result<FleetOptions> o = FleetOptions::FromConfig(config);
  ASSERT_TRUE(o.has_value());
  o->bad_rate = 0.2;
  Result<Fleet> f = Fleet::Create(*o, kStart);
  ASSERT_TRUE(f.has_value());
  ingest::Validator validator(config);
  std::map<BadKind, int> seen;
  int good = 0;
  for (int i = 0; i < 200; ++i) {
    const int64_t received = f->next_tick_ms() + 1000;
    std::vector<OutMessage> tick;
    f->Step(&tick);
    for (const OutMessage& m : tick) {
      ingest::Verdict v = validator.Validate(RawMessage{m.topic, m.payload, received});
      if (m.cls == MessageClass::kBad) {
        ++seen[m.bad];
        ASSERT_TRUE(std::holds_alternative<Rejection>(v)) << m.topic << " " << m.payload.substr(0, 200);
        EXPECT_EQ(ReasonCode(std::get<Rejection>(v).reason), ExpectedReason(m.bad))
            << m.topic << " " << m.payload.substr(0, 200) << ": " << std::get<Rejection>(v).detail;
      } else {
        ++good;
        ASSERT_TRUE(std::holds_alternative<AcceptedMessage>(v))
            << m.topic << " " << m.payload << ": " << std::get<Rejection>(v).detail;
      }
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kBadKindCount));
  std::set<std::string_view> reasons;
  for (auto& [kind, n] : seen) reasons.insert(ExpectedReason(kind));
  EXPECT_EQ(reasons.size(), 10u) << "every quarantine reason of the contract";
  EXPECT_GT(good, 1000);
}

}  // namespace
}  // namespace vigil::sim
