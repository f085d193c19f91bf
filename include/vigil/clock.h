// Clock: the one source of "now" and of sleeping.
//
// Only src/common/ touches std::chrono::system_clock or sleeps; every component takes a
// Clock& so tests can drive time with FakeClock (whose sleeps just advance it).
// All times are integer milliseconds since the Unix epoch, UTC.
#pragma once

#include <atomic>
#include <cstdint>

namespace vigil {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() const = 0;
  virtual void SleepMs(int64_t ms) = 0;
};

// Wall clock, thread-safe.
class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override;
  void SleepMs(int64_t ms) override;
  static SystemClock& Instance();
};

// Test clock: starts where told, moves only when told (or when slept on). Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ms) : now_ms_(start_ms) {}
  int64_t NowMs() const override { return now_ms_.load(); }
  void SleepMs(int64_t ms) override { now_ms_ += ms; }
  void Advance(int64_t ms) { now_ms_ += ms; }
  void Set(int64_t ms) { now_ms_ = ms; }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace vigil
