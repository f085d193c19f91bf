#include "sim/runner.h"

#include <gtest/gtest.h>

#include "sim/state_file.h"
#include "test_util.h"

namespace vigil::sim {
namespace {

constexpr int64_t kStart = 1'760'486'400'000;  // 2025-10-15T00:00:00Z
constexpr int64_t kMinute = 60'000;

// Records what would have gone to the broker, with the (fake) wall time of each publish.
class RecordingPublisher final : public Publisher {
 public:
  explicit RecordingPublisher(Clock& clock) : clock_(clock) {}
  Status Publish(const OutMessage& m) override {
    if (fail_after >= 0 && static_cast<int64_t>(messages.size()) >= fail_after) {
      return Status::Unavailable("broker gone");
    }
    messages.push_back(m);
    wall_ms.push_back(clock_.NowMs());
    ++unflushed;
    if (stop_after > 0 && static_cast<int64_t>(messages.size()) == stop_after) *stop = true;
    return Status::Ok();
  }
  Status Flush() override {
    ++flushes;
    unflushed = 0;
    return Status::Ok();
  }
  std::vector<OutMessage> messages;
  std::vector<int64_t> wall_ms;
  int flushes = 0;
  int unflushed = 0;
  int64_t fail_after = -1;
  int64_t stop_after = 0;
  std::atomic<bool>* stop = nullptr;

 private:
  Clock& clock_;
};

FleetOptions OneMachine() {
  Result<FleetOptions> o = FleetOptions::FromConfig(Config{});
  o->machine_ids = {"PUMP-A01"};
  o->interval_ms = kMinute;
  o->mean_time_to_failure_ms = 10'000LL * 86'400'000;  // no failures: 2 messages per tick
  return *o;
}

TEST(RunnerTest, BackfillPublishesEveryTickOfThePeriodAndSavesFlushedState) {
  FakeClock clock(kStart + 100 * 86'400'000LL);
  Result<Fleet> fleet = Fleet::Create(OneMachine(), kStart);
  RecordingPublisher pub(clock);
  std::atomic<bool> stop{false};
  int saves = 0;
  RunnerOptions ro;
  ro.save = [&] {
    EXPECT_EQ(pub.unflushed, 0) << "state is saved only after everything is acknowledged";
    ++saves;
    return Status::Ok();
  };
  ro.save_every_ms = 0;  // every tick
  Runner runner(*fleet, pub, clock, stop, ro);
  ASSERT_OK(runner.Backfill(kStart + 60 * kMinute));
  EXPECT_EQ(pub.messages.size(), 120u);
  EXPECT_EQ(runner.stats().sent, 120u);
  EXPECT_EQ(runner.stats().readings, 120u);
  EXPECT_EQ(fleet->next_tick_ms(), kStart + 60 * kMinute);
  EXPECT_EQ(saves, 60);
  EXPECT_EQ(pub.messages.back().topic, "industrial/machine/PUMP-A01/telemetry/temperature");
}

TEST(RunnerTest, StopIsHonouredBetweenTicks) {
  FakeClock clock(kStart);
  Result<Fleet> fleet = Fleet::Create(OneMachine(), kStart);
  RecordingPublisher pub(clock);
  std::atomic<bool> stop{false};
  pub.stop = &stop;
  pub.stop_after = 7;  // in the middle of the 4th tick
  Runner runner(*fleet, pub, clock, stop, {});
  ASSERT_OK(runner.Backfill(kStart + 60 * kMinute));
  EXPECT_EQ(pub.messages.size(), 8u) << "the tick in progress is completed";
  EXPECT_EQ(fleet->next_tick_ms(), kStart + 4 * kMinute);
}

TEST(RunnerTest, PublisherErrorsStopTheRun) {
  FakeClock clock(kStart);
  Result<Fleet> fleet = Fleet::Create(OneMachine(), kStart);
  RecordingPublisher pub(clock);
  pub.fail_after = 5;
  std::atomic<bool> stop{false};
  int saves = 0;
  RunnerOptions ro;
  ro.save = [&] { ++saves; return Status::Ok(); };
  Runner runner(*fleet, pub, clock, stop, ro);
  Status s = runner.Backfill(kStart + 60 * kMinute);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(saves, 0);
}

TEST(RunnerTest, RateLimitSpacesMessages) {
  FakeClock clock(kStart);
  Result<Fleet> fleet = Fleet::Create(OneMachine(), kStart);
  RecordingPublisher pub(clock);
  std::atomic<bool> stop{false};
  RunnerOptions ro;
  ro.max_rate = 100;
  Runner runner(*fleet, pub, clock, stop, ro);
  const int64_t wall_start = clock.NowMs();
  ASSERT_OK(runner.Backfill(kStart + 500 * kMinute));  // 1000 messages
  EXPECT_EQ(pub.messages.size(), 1000u);
  EXPECT_NEAR(static_cast<double>(clock.NowMs() - wall_start), 9990.0, 20.0);
  for (size_t i = 1; i < pub.wall_ms.size(); ++i) EXPECT_GE(pub.wall_ms[i], pub.wall_ms[i - 1]);
}

TEST(RunnerTest, RealTimePublishesEachTickWhenDue) {
  FakeClock clock(kStart);
  Result<Fleet> fleet = Fleet::Create(OneMachine(), kStart);
  RecordingPublisher pub(clock);
  std::atomic<bool> stop{false};
  pub.stop = &stop;
  pub.stop_after = 20;  // 10 ticks
  Runner runner(*fleet, pub, clock, stop, {});
  ASSERT_OK(runner.RealTime(1.0));
  ASSERT_EQ(pub.messages.size(), 20u);
  for (size_t i = 0; i < pub.messages.size(); i += 2) {
    EXPECT_EQ(pub.wall_ms[i], kStart + static_cast<int64_t>(i / 2) * kMinute) << "tick " << i / 2;
  }
}

TEST(RunnerTest, SpeedCompressesWallTime) {
  FakeClock clock(kStart + 5);
  Result<Fleet> fleet = Fleet::Create(OneMachine(), kStart);
  RecordingPublisher pub(clock);
  std::atomic<bool> stop{false};
  pub.stop = &stop;
  pub.stop_after = 100;  // 50 ticks = 49 simulated minutes after the first
  Runner runner(*fleet, pub, clock, stop, {});
  ASSERT_OK(runner.RealTime(60.0));
  EXPECT_NEAR(static_cast<double>(pub.wall_ms.back() - pub.wall_ms.front()), 49 * 1000.0, 2.0);
}

TEST(RunnerTest, RealTimeAfterBackfillCatchesUpThenWaits) {
  FakeClock clock(kStart + 10 * kMinute + 1);
  Result<Fleet> fleet = Fleet::Create(OneMachine(), kStart);
  RecordingPublisher pub(clock);
  std::atomic<bool> stop{false};
  pub.stop = &stop;
  pub.stop_after = 26;  // 13 ticks: 11 past ones at once, 2 in real time
  Runner runner(*fleet, pub, clock, stop, {});
  ASSERT_OK(runner.RealTime(1.0));
  EXPECT_EQ(pub.wall_ms[21], kStart + 10 * kMinute + 1) << "past ticks go out immediately";
  EXPECT_EQ(pub.wall_ms[22], kStart + 11 * kMinute);
  EXPECT_EQ(pub.wall_ms[24], kStart + 12 * kMinute);
}

TEST(StateFileTest, AtomicWriteAndRead) {
  testing::TempDir tmp;
  const std::string dir = StateDir(tmp.path() + "/data");
  ASSERT_OK(CreateDirs(dir));
  Result<std::string> missing = ReadWholeFile(StatePath(tmp.path() + "/data"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  ASSERT_OK(WriteFileAtomic(StatePath(tmp.path() + "/data"), "one"));
  ASSERT_OK(WriteFileAtomic(StatePath(tmp.path() + "/data"), "two"));
  Result<std::string> read = ReadWholeFile(StatePath(tmp.path() + "/data"));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, "two");
  EXPECT_EQ(testing::ListFiles(dir), std::vector<std::string>{"state"}) << "no temporary file left";
  EXPECT_FALSE(WriteFileAtomic(tmp.path() + "/no/such/dir/state", "x").ok());
}

}  // namespace
}  // namespace vigil::sim
