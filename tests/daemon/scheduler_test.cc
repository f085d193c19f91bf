// The daemon's schedule, driven by RunOnce and a FakeClock: no thread, no sleep, no lake,
// vigil.db or broker (the steps are counted, not run).
#include "daemon/scheduler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lake/file_system.h"
#include "vigil/clock.h"

namespace vigil::daemon {
namespace {

constexpr int64_t kStart = 1'760'486'400'000;
constexpr int64_t kMinute = 60'000;

class CountingScheduler final : public Scheduler {
 public:
  using Scheduler::Scheduler;
  ~CountingScheduler() override = default;
  std::vector<std::string> steps;
  int64_t newest_model_ms = 0;
  int64_t step_ms = 0;  // how long each step takes on the fake clock
  FakeClock* clock = nullptr;

 protected:
  void Process() override { Did("process"); }
  void Housekeep() override { Did("housekeep"); }
  void ScoreAndPublish() override { Did("score"); }
  void Retrain() override {
    Scheduler::Retrain();  // counts it in Stats() (the training itself finds no vigil.db)
    Did("retrain");
  }
  int64_t NewestModelMs() override { return newest_model_ms; }

 private:
  void Did(const std::string& what) {
    steps.push_back(what);
    if (clock) clock->Advance(step_ms);
  }
};

Config TestConfig(const std::string& data_dir) {
  Config c;
  c.data_dir = data_dir;
  c.processing.interval_ms = 5 * kMinute;
  c.retention.interval_ms = 10 * kMinute;
  c.model.retrain_interval_ms = 0;
  return c;
}

std::vector<std::string> Take(std::vector<std::string>* v) {
  std::vector<std::string> out;
  out.swap(*v);
  return out;
}

using Steps = std::vector<std::string>;

TEST(SchedulerTest, ProcessesEveryIntervalAndMeasuresTheLakeAtOnce) {
  FakeClock clock(kStart);
  CountingScheduler s(TestConfig("/nonexistent"), clock, lake::PosixFileSystem::Instance());
  // First step: retention measures at once; processing waits one interval.
  EXPECT_EQ(s.RunOnce(clock.NowMs()), kStart + 5 * kMinute);
  EXPECT_EQ(Take(&s.steps), (Steps{"housekeep"}));
  clock.Set(kStart + 5 * kMinute - 1);
  EXPECT_EQ(s.RunOnce(clock.NowMs()), kStart + 5 * kMinute);
  EXPECT_TRUE(s.steps.empty());
  clock.Set(kStart + 5 * kMinute);
  EXPECT_EQ(s.RunOnce(clock.NowMs()), kStart + 10 * kMinute);  // processing and retention both due then
  EXPECT_EQ(Take(&s.steps), (Steps{"process", "score"}));
  clock.Set(kStart + 10 * kMinute);
  EXPECT_EQ(s.RunOnce(clock.NowMs()), kStart + 15 * kMinute);
  EXPECT_EQ(Take(&s.steps), (Steps{"process", "score", "housekeep"}));
}

TEST(SchedulerTest, TheNextRunCountsFromTheEndOfTheLastOne) {
  FakeClock clock(kStart);
  Config c = TestConfig("/nonexistent");
  c.retention.interval_ms = 60 * kMinute;  // out of the way
  CountingScheduler s(c, clock, lake::PosixFileSystem::Instance());
  s.clock = &clock;
  s.step_ms = 30'000;  // every step takes 30 s
  s.RunOnce(clock.NowMs());  // housekeep: now kStart + 30 s
  clock.Set(kStart + 5 * kMinute);
  // process + score take a minute: the next processing is one interval after they end.
  EXPECT_EQ(s.RunOnce(clock.NowMs()), kStart + 11 * kMinute);
  EXPECT_EQ(Take(&s.steps), (Steps{"housekeep", "process", "score"}));
}

TEST(SchedulerTest, RetrainsWhenTheIntervalSinceTheNewestModelHasPassed) {
  FakeClock clock(kStart);
  Config c = TestConfig("/nonexistent");
  c.model.retrain_interval_ms = 60 * kMinute;
  CountingScheduler s(c, clock, lake::PosixFileSystem::Instance());
  s.newest_model_ms = kStart - 50 * kMinute;  // trained 50 min before this start
  s.RunOnce(clock.NowMs());
  Take(&s.steps);
  clock.Set(kStart + 5 * kMinute);  // 55 min after the newest model: not yet
  s.RunOnce(clock.NowMs());
  EXPECT_EQ(Take(&s.steps), (Steps{"process", "score"}));
  clock.Set(kStart + 10 * kMinute);  // 60 min: retrain, between processing and scoring
  s.RunOnce(clock.NowMs());
  EXPECT_EQ(Take(&s.steps), (Steps{"process", "retrain", "score", "housekeep"}));
  EXPECT_EQ(s.Stats().retrains, 1u);
  EXPECT_EQ(s.Stats().last_retrain_ms, kStart + 10 * kMinute);
  clock.Set(kStart + 15 * kMinute);  // counts from that retraining now
  s.RunOnce(clock.NowMs());
  EXPECT_EQ(Take(&s.steps), (Steps{"process", "score"}));
}

TEST(SchedulerTest, NoRetrainingWhenTheIntervalIsZero) {
  FakeClock clock(kStart);
  CountingScheduler s(TestConfig("/nonexistent"), clock, lake::PosixFileSystem::Instance());
  for (int i = 0; i <= 24; ++i) {
    clock.Set(kStart + i * 60 * kMinute);
    s.RunOnce(clock.NowMs());
  }
  for (const std::string& step : s.steps) EXPECT_NE(step, "retrain");
  EXPECT_EQ(s.Stats().retrains, 0u);
}

TEST(SchedulerTest, RetentionRunsEveryRetentionInterval) {
  FakeClock clock(kStart);
  Config c = TestConfig("/nonexistent");
  c.processing.interval_ms = 60 * kMinute;  // out of the way
  CountingScheduler s(c, clock, lake::PosixFileSystem::Instance());
  EXPECT_EQ(s.RunOnce(clock.NowMs()), kStart + 10 * kMinute);
  EXPECT_EQ(Take(&s.steps), (Steps{"housekeep"}));
  clock.Set(kStart + 9 * kMinute);
  EXPECT_EQ(s.RunOnce(clock.NowMs()), kStart + 10 * kMinute);
  EXPECT_TRUE(s.steps.empty());
  clock.Set(kStart + 10 * kMinute);
  EXPECT_EQ(s.RunOnce(clock.NowMs()), kStart + 20 * kMinute);
  EXPECT_EQ(Take(&s.steps), (Steps{"housekeep"}));
}

TEST(SchedulerTest, DiskLowWakesRetentionAtOnceAndRestartsItsInterval) {
  FakeClock clock(kStart);
  Config c = TestConfig("/nonexistent");
  c.processing.interval_ms = 60 * kMinute;
  CountingScheduler s(c, clock, lake::PosixFileSystem::Instance());
  s.RunOnce(clock.NowMs());
  Take(&s.steps);
  clock.Set(kStart + 3 * kMinute);
  s.HousekeepSoon();  // what the main loop does when the disk goes low
  EXPECT_EQ(s.RunOnce(clock.NowMs()), kStart + 13 * kMinute);
  EXPECT_EQ(Take(&s.steps), (Steps{"housekeep"}));
  clock.Set(kStart + 10 * kMinute);  // the old due time has gone
  s.RunOnce(clock.NowMs());
  EXPECT_TRUE(s.steps.empty());
  // Asked once, done once.
  clock.Set(kStart + 11 * kMinute);
  s.RunOnce(clock.NowMs());
  EXPECT_TRUE(s.steps.empty());
}

}  // namespace
}  // namespace vigil::daemon
