// daemon::FleetWatcher driven by RunOnce and a FakeClock, with a fake pull: malformed
// payloads, the same id twice, network failures retried with a doubling wait, check
// failures not retried, a newer announcement replacing one being retried.
#include "daemon/fleet_watcher.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "vigil/clock.h"

namespace vigil::daemon {
namespace {

struct Fake {
  std::vector<std::string> pulled;              // ids, in order
  std::map<std::string, int64_t> registered;    // fleet id -> model id
  std::vector<Status> next;                     // results of the next pulls (then OK)
  FleetWatcher::PullFn Pull() {
    return [this](const model::FleetAnnouncement& a) -> Result<model::AdoptReport> {
      pulled.push_back(a.id);
      if (!next.empty()) {
        Status s = next.front();
        next.erase(next.begin());
        if (!s.ok()) return s;
      }
      model::AdoptReport r;
      r.model_id = static_cast<int64_t>(registered.size()) + 1;
      r.promoted = a.id.find("worse") == std::string::npos;
      r.decision = r.promoted ? "promoted" : "not promoted: worse";
      registered[a.id] = r.model_id;
      return r;
    };
  }
  FleetWatcher::FindFn Find() {
    return [this](const std::string& id) -> Result<int64_t> {
      auto it = registered.find(id);
      return it == registered.end() ? 0 : it->second;
    };
  }
};

constexpr int64_t kT0 = 1'000'000;

TEST(FleetWatcherTest, PullsOnceAndTheSameIdAgainIsANoOp) {
  FakeClock clock(kT0);
  Fake f;
  FleetWatcher w(clock, f.Pull(), f.Find(), 60'000);
  EXPECT_EQ(w.RunOnce(kT0), 0);  // nothing offered: nothing done
  w.Offer(R"({"id":"fleet-1"})");
  EXPECT_EQ(w.RunOnce(kT0), 0);
  EXPECT_EQ(f.pulled, std::vector<std::string>{"fleet-1"});
  w.Offer(R"({"id":"fleet-1"})");  // the retained message again, after a reconnect
  w.RunOnce(kT0 + 10);
  EXPECT_EQ(f.pulled.size(), 1u);
  FleetStats s = w.Stats();
  EXPECT_EQ(s.announcements, 2u);
  EXPECT_EQ(s.registered, 1u);
  EXPECT_EQ(s.promoted, 1u);
  EXPECT_EQ(s.already, 1u);
  EXPECT_EQ(s.state, "done");
  EXPECT_EQ(s.last_id, "fleet-1");
  EXPECT_EQ(s.last_success_ms, kT0);
}

TEST(FleetWatcherTest, AModelRegisteredBeforeIsNotPulled) {
  FakeClock clock(kT0);
  Fake f;
  f.registered["fleet-0"] = 7;  // e.g. pulled by hand with vigil models pull
  FleetWatcher w(clock, f.Pull(), f.Find(), 60'000);
  w.Offer(R"({"id":"fleet-0"})");
  w.RunOnce(kT0);
  EXPECT_TRUE(f.pulled.empty());
  EXPECT_EQ(w.Stats().already, 1u);
  EXPECT_EQ(w.Stats().registered, 0u);
}

TEST(FleetWatcherTest, MalformedPayloadIsCountedAndNothingPulled) {
  FakeClock clock(kT0);
  Fake f;
  FleetWatcher w(clock, f.Pull(), f.Find(), 60'000);
  for (const char* p : {"garbage", R"({"id":"a/../b"})", R"({"id":"fleet-1","sha256":"zz"})"}) {
    w.Offer(p);
    EXPECT_EQ(w.RunOnce(kT0), 0);
  }
  EXPECT_TRUE(f.pulled.empty());
  FleetStats s = w.Stats();
  EXPECT_EQ(s.malformed, 3u);
  EXPECT_NE(s.last_error.find("malformed announcement"), std::string::npos);
  w.Offer(R"({"id":"fleet-2"})");  // a good one after them still works
  w.RunOnce(kT0);
  EXPECT_EQ(f.pulled, std::vector<std::string>{"fleet-2"});
}

TEST(FleetWatcherTest, NetworkFailuresAreRetriedWithADoublingWait) {
  FakeClock clock(kT0);
  Fake f;
  f.next = {Status::Unavailable("GET x: connection refused"), Status::Unavailable("GET x: connection refused"),
            Status::Unavailable("GET x: connection refused")};
  FleetWatcher w(clock, f.Pull(), f.Find(), 3'000);
  w.Offer(R"({"id":"fleet-1"})");
  EXPECT_EQ(w.RunOnce(kT0), kT0 + 1000);
  EXPECT_EQ(w.Stats().state, "retrying");
  EXPECT_NE(w.Stats().last_error.find("connection refused"), std::string::npos);
  EXPECT_EQ(w.RunOnce(kT0 + 999), kT0 + 1000);  // not due yet: no attempt
  EXPECT_EQ(f.pulled.size(), 1u);
  EXPECT_EQ(w.RunOnce(kT0 + 1000), kT0 + 1000 + 2000);
  EXPECT_EQ(w.RunOnce(kT0 + 3000), kT0 + 3000 + 3000);  // capped at retry_max
  EXPECT_EQ(w.RunOnce(kT0 + 6000), 0);                  // the endpoint is back
  EXPECT_EQ(f.pulled.size(), 4u);
  FleetStats s = w.Stats();
  EXPECT_EQ(s.failures, 3u);
  EXPECT_EQ(s.registered, 1u);
  EXPECT_EQ(s.state, "done");
  EXPECT_EQ(s.last_error, "");
}

TEST(FleetWatcherTest, ACheckFailureIsNotRetriedButANewIdIsPulled) {
  FakeClock clock(kT0);
  Fake f;
  f.next = {Status::InvalidArgument("sha256 mismatch")};
  FleetWatcher w(clock, f.Pull(), f.Find(), 60'000);
  w.Offer(R"({"id":"fleet-1"})");
  EXPECT_EQ(w.RunOnce(kT0), 0);
  EXPECT_EQ(w.Stats().state, "failed");
  w.Offer(R"({"id":"fleet-1"})");
  w.RunOnce(kT0 + 100'000);
  EXPECT_EQ(f.pulled.size(), 1u);  // not retried for the same id
  w.Offer(R"({"id":"fleet-2-worse"})");
  w.RunOnce(kT0 + 100'001);
  EXPECT_EQ(f.pulled.size(), 2u);
  FleetStats s = w.Stats();
  EXPECT_EQ(s.failures, 1u);
  EXPECT_EQ(s.rejected, 1u);  // registered, refused by the (fake) rule
  EXPECT_EQ(s.promoted, 0u);
}

TEST(FleetWatcherTest, ANewerAnnouncementReplacesOneBeingRetried) {
  FakeClock clock(kT0);
  Fake f;
  f.next = {Status::Unavailable("down")};
  FleetWatcher w(clock, f.Pull(), f.Find(), 60'000);
  w.Offer(R"({"id":"fleet-1"})");
  w.RunOnce(kT0);
  w.Offer(R"({"id":"fleet-2"})");
  EXPECT_EQ(w.RunOnce(kT0 + 1), 0);  // at once, without waiting for fleet-1's retry
  EXPECT_EQ(f.pulled, (std::vector<std::string>{"fleet-1", "fleet-2"}));
  EXPECT_EQ(w.RunOnce(kT0 + 5000), 0);  // fleet-1 is no longer retried
  EXPECT_EQ(f.pulled.size(), 2u);
}

TEST(FleetWatcherTest, ItsThreadPullsWhatIsOffered) {
  Fake f;
  FleetWatcher w(SystemClock::Instance(), f.Pull(), f.Find(), 60'000);
  w.Start();
  w.Offer(R"({"id":"fleet-1"})");
  for (int i = 0; i < 200 && w.Stats().registered == 0; ++i) SystemClock::Instance().SleepMs(10);
  w.Stop();
  EXPECT_EQ(w.Stats().registered, 1u);
}

}  // namespace
}  // namespace vigil::daemon
