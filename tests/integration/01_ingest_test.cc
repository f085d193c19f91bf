#include <gtest/gtest.h>
#include <signal.h>

#include "common/timestamp.h"
#include "integration/harness.h"
#include "test_util.h"

namespace vigil::testing {
namespace {

TEST(IngestIntegration, ValidMessageLandsInItsPartition) {
  TempDir tmp;
  Mosquitto broker(tmp.path());
  std::string data = tmp.path() + "/data";
  Process vigil = StartVigil(data, broker.port(), "it-01");
  ASSERT_TRUE(WaitSubscribed(broker, "it-01")) << ReadFileOrDie(data + ".log");
  Publisher pub(broker.port(), "pub-01");
  std::string payload = R"({"machine_id": "PUMP-A01", "timestamp_utc": "2025-10-15T09:00:01.123Z", "vibration_rms": 4.2})";
  pub.Publish("industrial/machine/PUMP-A01/telemetry/vibration", payload);
  // The broker's PUBACK to the publisher does not mean vigil has it yet: wait for the line.
  ASSERT_TRUE(WaitFor([&] { return ReadAllLines(data + "/lake").size() == 1; }, 10000));
  vigil.Signal(SIGTERM);
  ASSERT_EQ(vigil.Wait(10000), 0) << ReadFileOrDie(data + ".log");
  std::vector<std::string> lines = ReadAllLines(data + "/lake", "raw/date=2025-10-15/machine_id=PUMP-A01/vibration-");
  ASSERT_EQ(lines.size(), 1u) << ReadFileOrDie(data + ".log");
  EXPECT_NE(lines[0].find(R"("payload":{"machine_id":"PUMP-A01","timestamp_utc":"2025-10-15T09:00:01.123Z","vibration_rms":4.2}})"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace vigil::testing
