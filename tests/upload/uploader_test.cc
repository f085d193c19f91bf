#include "upload/uploader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "lake/paths.h"
#include "lake/segment_log.h"
#include "test_util.h"
#include "upload/s3_client.h"

namespace vigil::upload {
namespace {

using vigil::testing::ReadFileOrDie;
using vigil::testing::TempDir;
using vigil::testing::WriteFileOrDie;
namespace fs = std::filesystem;

TEST(UploadKeyTest, EncodesEverythingButTheUnreservedBytesAndSlash) {
  EXPECT_EQ(UriEncodeKey("raw/gateway=gw-1/date=2025-10-15/machine_id=P_1.a~b/x y+z.jsonl"),
            "raw/gateway%3Dgw-1/date%3D2025-10-15/machine_id%3DP_1.a~b/x%20y%2Bz.jsonl");
  EXPECT_EQ(UriEncodeKey("\xc3\xa9"), "%C3%A9");
}

TEST(UploadKeyTest, Sha256OfKnownInputs) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(UploadKeyTest, KeyAddsTheGatewayLevelUnderThePrefix) {
  UploadConfig c;
  c.gateway_id = "gw-1";
  EXPECT_EQ(ObjectKey(c, "raw/date=2025-10-15/machine_id=M1/vibration-1760518800000-000001.jsonl"),
            "raw/gateway=gw-1/date=2025-10-15/machine_id=M1/vibration-1760518800000-000001.jsonl");
  c.prefix = "plant-1/lake";
  EXPECT_EQ(ObjectKey(c, "raw/date=2025-10-15/machine_id=M1/a.jsonl"),
            "plant-1/lake/raw/gateway=gw-1/date=2025-10-15/machine_id=M1/a.jsonl");
}

// A log published while <lake>/.upload exists leaves a hard link of each raw segment in
// the queue (and none of quarantine segments); without the directory, none.
TEST(UploadQueueTest, PublishLinksRawSegmentsIntoTheQueueOnlyWhenItExists) {
  for (bool queue_on : {true, false}) {
    TempDir tmp;
    const std::string lake = tmp.path();
    fs::create_directories(lake::WalDir(lake));
    if (queue_on) fs::create_directories(lake::UploadQueueDir(lake));
    std::string log;
    lake::AppendLogRecord("raw/date=2025-10-15/machine_id=M1", "vibration", "{\"a\":1}\n", true, &log);
    lake::AppendLogRecord("quarantine/date=2025-10-15", "", "{\"bad\":1}\n", true, &log);
    WriteFileOrDie(lake::WalDir(lake) + "/" + lake::LogFileName(1760518800000), log);
    auto r = lake::RecoverLogs(lake, lake::PosixFileSystem::Instance(), FsyncPolicy::kInterval,
                               [](const lake::TornPiece&) { return Status::Ok(); });
    ASSERT_TRUE(r.has_value()) << r.error().message();
    const std::string seg = lake + "/raw/date=2025-10-15/machine_id=M1/vibration-1760518800000-000001.jsonl";
    const std::string queued = lake::UploadQueueDir(lake) + "/raw/date=2025-10-15/machine_id=M1/vibration-1760518800000-000001.jsonl";
    ASSERT_TRUE(fs::exists(seg));
    EXPECT_EQ(fs::exists(queued), queue_on);
    if (queue_on) {
      struct stat a {}, b {};
      ASSERT_EQ(::stat(seg.c_str(), &a), 0);
      ASSERT_EQ(::stat(queued.c_str(), &b), 0);
      EXPECT_EQ(a.st_ino, b.st_ino);  // a link, not a copy
      EXPECT_FALSE(fs::exists(lake::UploadQueueDir(lake) + "/quarantine"));
    }
  }
}

// An unreachable endpoint: the pass fails with kUnavailable, the segment stays queued, the
// ledger stays empty; a torn last ledger record is cut at Open; published segments from
// before the queue existed are queued by Open unless the ledger has them.
TEST(UploaderTest, UnreachableEndpointKeepsTheQueueAndTornLedgerIsCut) {
  TempDir tmp;
  Config c;
  c.data_dir = tmp.path();
  c.upload.bucket = "b";
  c.upload.gateway_id = "gw";
  c.upload.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  c.upload.timeout_ms = 2000;
  const std::string lake = lake::LakeDir(c.data_dir);
  const std::string dir = lake + "/raw/date=2025-10-15/machine_id=M1";
  fs::create_directories(dir);
  WriteFileOrDie(dir + "/vibration-1760518800000-000001.jsonl", "{\"a\":1}\n");
  WriteFileOrDie(dir + "/vibration-1760518800000-000002.jsonl", "{\"a\":2}\n");
  fs::create_directories(UploadDir(c.data_dir));
  WriteFileOrDie(LedgerPath(c.data_dir),
                 ObjectKey(c.upload, "raw/date=2025-10-15/machine_id=M1/vibration-1760518800000-000002.jsonl") +
                     "\t8\tsha\tetag\t2025-10-15T00:00:00.000Z\nraw/torn");
  FakeClock clock(1760518800000);
  Uploader up(c, clock);
  ASSERT_TRUE(up.Open("test").ok());
  EXPECT_EQ(ReadFileOrDie(LedgerPath(c.data_dir)).find("torn"), std::string::npos);
  const std::string q = lake::UploadQueueDir(lake) + "/raw/date=2025-10-15/machine_id=M1/";
  EXPECT_TRUE(fs::exists(q + "vibration-1760518800000-000001.jsonl"));
  EXPECT_FALSE(fs::exists(q + "vibration-1760518800000-000002.jsonl"));  // in the ledger already
  auto r = up.RunOnce();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kUnavailable) << r.error().message();
  EXPECT_TRUE(fs::exists(q + "vibration-1760518800000-000001.jsonl"));
  EXPECT_EQ(up.Stats().failures, 1u);
  EXPECT_EQ(up.Stats().backlog_files, 1u);
  EXPECT_EQ(CountLedger(c.data_dir), 1u);
  // A second uploader on the same data directory is refused.
  Uploader other(c, clock);
  EXPECT_EQ(other.Open("test 2").code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace vigil::upload

namespace vigil::upload {
namespace {

TEST(S3ListingTest, XmlValuesAndQueryEncoding) {
  const std::string xml =
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a/models/x/manifest.json</Key></Contents>"
      "<Contents><Key>b&amp;c</Key></Contents></ListBucketResult>";
  EXPECT_EQ(XmlValues(xml, "Key"), (std::vector<std::string>{"a/models/x/manifest.json", "b&c"}));
  EXPECT_EQ(XmlValues(xml, "IsTruncated"), (std::vector<std::string>{"false"}));
  EXPECT_TRUE(XmlValues(xml, "NextContinuationToken").empty());
  EXPECT_EQ(UriEncodeQueryValue("plant-1/models/"), "plant-1%2Fmodels%2F");
  EXPECT_EQ(UriEncodeQueryValue("a+b=c"), "a%2Bb%3Dc");
}

}  // namespace
}  // namespace vigil::upload
