#include "lake/archive.h"

#include <gtest/gtest.h>

#include "lake/paths.h"
#include "fault_fs.h"
#include "test_util.h"

namespace vigil::lake {
namespace {

using vigil::testing::ListFiles;
using vigil::testing::ReadFileOrDie;
using vigil::testing::TempDir;
using vigil::testing::WriteFileOrDie;

const std::string kP = "/date=2025-10-15/machine_id=M1/";

struct ArchiveTest : ::testing::Test {
  TempDir tmp;
  std::string Raw(const std::string& name) { return RawDir(tmp.path()) + kP + name; }
  PosixFileSystem& fs = PosixFileSystem::Instance();
};

TEST_F(ArchiveTest, ABatchsSegmentsOfAPartitionBecomeOneFileInSegmentOrder) {
  WriteFileOrDie(Raw("vibration-1760518800500-000002.jsonl"), "{\"v\":2}\n");
  WriteFileOrDie(Raw("temperature-1760518800000-000001.jsonl"), "{\"t\":1}\n{\"t\":2}\n");
  WriteFileOrDie(RawDir(tmp.path()) + "/date=2025-10-15/machine_id=M2/vibration-1760518800000-000003.jsonl", "{\"m2\":1}\n");
  int partitions = 0;
  ASSERT_OK(ArchiveSegments(fs, tmp.path(),
                            {Raw("vibration-1760518800500-000002.jsonl"), Raw("temperature-1760518800000-000001.jsonl"),
                             RawDir(tmp.path()) + "/date=2025-10-15/machine_id=M2/vibration-1760518800000-000003.jsonl"},
                            42, [&] { ++partitions; return Status::Ok(); }));
  EXPECT_EQ(partitions, 2);
  // The compacted sources wait in the trash for the next run (EmptyTrash).
  EXPECT_EQ(ListFiles(tmp.path()),
            (std::vector<std::string>{".trash/42-0.jsonl", ".trash/42-1.jsonl",
                                      "archive/date=2025-10-15/machine_id=M1/1760518800000-000042.all.jsonl",
                                      "archive/date=2025-10-15/machine_id=M2/vibration-1760518800000-000003.jsonl"}));
  EXPECT_EQ(ReadFileOrDie(tmp.path() + "/archive" + kP + "1760518800000-000042.all.jsonl"),
            "{\"t\":1}\n{\"t\":2}\n{\"v\":2}\n");
  ASSERT_OK(EmptyTrash(fs, tmp.path()));
  EXPECT_EQ(ListFiles(tmp.path()),
            (std::vector<std::string>{"archive/date=2025-10-15/machine_id=M1/1760518800000-000042.all.jsonl",
                                      "archive/date=2025-10-15/machine_id=M2/vibration-1760518800000-000003.jsonl"}));
}

TEST_F(ArchiveTest, EmptyingAMissingTrashIsNoError) { EXPECT_OK(EmptyTrash(fs, tmp.path())); }

// A source of kCompactBelow (1 MiB) or more is moved as it is (even cut short); the small ones of its
// partition are compacted, an empty one adds nothing, a cut one gets its line ended.
TEST_F(ArchiveTest, ABigSourceIsMovedAsItIsTheSmallOnesCompacted) {
  std::string big;
  for (int i = 0; big.size() < kCompactBelow - 1; ++i) big += "{\"i\":" + std::to_string(i) + "}\n";
  big += "{\"cut\":";
  WriteFileOrDie(Raw("a-1760518800000-000001.jsonl"), big);
  WriteFileOrDie(Raw("b-1760518800001-000002.jsonl"), "");
  WriteFileOrDie(Raw("c-1760518800002-000003.jsonl"), "{\"c\":1}");
  WriteFileOrDie(Raw("d-1760518800003-000004.jsonl"), "{\"d\":1}\n");
  ASSERT_OK(ArchiveSegments(fs, tmp.path(),
                            {Raw("a-1760518800000-000001.jsonl"), Raw("b-1760518800001-000002.jsonl"),
                             Raw("c-1760518800002-000003.jsonl"), Raw("d-1760518800003-000004.jsonl")},
                            7, nullptr));
  ASSERT_OK(EmptyTrash(fs, tmp.path()));
  EXPECT_EQ(ListFiles(tmp.path()),
            (std::vector<std::string>{"archive/date=2025-10-15/machine_id=M1/1760518800001-000007.all.jsonl",
                                      "archive/date=2025-10-15/machine_id=M1/a-1760518800000-000001.jsonl"}));
  EXPECT_TRUE(ReadFileOrDie(tmp.path() + "/archive" + kP + "a-1760518800000-000001.jsonl") == big);
  EXPECT_EQ(ReadFileOrDie(tmp.path() + "/archive" + kP + "1760518800001-000007.all.jsonl"), "{\"c\":1}\n{\"d\":1}\n");
}

// After a crash, a big source left in raw/ is moved even though its batch compacted the
// small ones of its partition: it was never in the compacted file, removing it would lose it.
TEST_F(ArchiveTest, ABigLeftoverIsMovedNeverRemoved) {
  WriteFileOrDie(tmp.path() + "/archive" + kP + "1760518800000-000042.all.jsonl", "{\"s\":1}\n");
  const std::string big(kCompactBelow, 'x');
  WriteFileOrDie(Raw("a-1760518800000-000001.jsonl"), big);
  ASSERT_OK(FinishArchive(fs, tmp.path(), Raw("a-1760518800000-000001.jsonl"), 42));
  EXPECT_EQ(ListFiles(tmp.path()),
            (std::vector<std::string>{"archive/date=2025-10-15/machine_id=M1/1760518800000-000042.all.jsonl",
                                      "archive/date=2025-10-15/machine_id=M1/a-1760518800000-000001.jsonl"}));
  EXPECT_TRUE(ReadFileOrDie(tmp.path() + "/archive" + kP + "a-1760518800000-000001.jsonl") == big);
}

// A crash after the compacted file was renamed, before the sources were removed.
TEST_F(ArchiveTest, ALeftoverOfACompactedBatchIsRemovedOtherwiseMoved) {
  WriteFileOrDie(tmp.path() + "/archive" + kP + "1760518800000-000042.all.jsonl", "{\"a\":1}\n{\"b\":1}\n");
  WriteFileOrDie(Raw("a-1760518800000-000001.jsonl"), "{\"a\":1}\n");
  WriteFileOrDie(Raw("c-1760518800000-000007.jsonl"), "{\"c\":1}\n");
  WriteFileOrDie(tmp.path() + "/archive" + kP + ".1760518800000-000043.all.jsonl.open", "{\"c\"");  // staged, not renamed
  ASSERT_OK(FinishArchive(fs, tmp.path(), Raw("a-1760518800000-000001.jsonl"), 42));
  ASSERT_OK(FinishArchive(fs, tmp.path(), Raw("c-1760518800000-000007.jsonl"), 43));  // batch 43 was not compacted here
  EXPECT_EQ(ListFiles(tmp.path()),
            (std::vector<std::string>{"archive/date=2025-10-15/machine_id=M1/1760518800000-000042.all.jsonl",
                                      "archive/date=2025-10-15/machine_id=M1/c-1760518800000-000007.jsonl"}));
}

// A crash while a batch staged its compacted file, or before its commit: the copy is
// cleared at the next run's start and the sources are compacted again.
TEST_F(ArchiveTest, AHalfWrittenCompactionIsClearedAndRedone) {
  WriteFileOrDie(StagingDir(tmp.path()) + "/1-1.jsonl", "{\"a\":");
  WriteFileOrDie(Raw("a-1760518800000-000001.jsonl"), "{\"a\":1}\n");
  WriteFileOrDie(Raw("b-1760518800000-000002.jsonl"), "{\"b\":1}");  // no final newline: one is added
  ASSERT_OK(ClearStaging(fs, tmp.path()));
  EXPECT_EQ(ListFiles(tmp.path()), (std::vector<std::string>{"raw/date=2025-10-15/machine_id=M1/a-1760518800000-000001.jsonl",
                                                             "raw/date=2025-10-15/machine_id=M1/b-1760518800000-000002.jsonl"}));
  Result<ArchivePlan> plan =
      StageArchive(fs, tmp.path(), {Raw("a-1760518800000-000001.jsonl"), Raw("b-1760518800000-000002.jsonl")}, "1");
  ASSERT_TRUE(plan) << plan.error().message();
  // Staged: a copy beside the sources, which stay in raw/ until the batch has committed.
  EXPECT_EQ(ListFiles(tmp.path()), (std::vector<std::string>{".staging/1-1.jsonl",
                                                             "raw/date=2025-10-15/machine_id=M1/a-1760518800000-000001.jsonl",
                                                             "raw/date=2025-10-15/machine_id=M1/b-1760518800000-000002.jsonl"}));
  ASSERT_OK(FinishStaged(fs, tmp.path(), *plan, 42));
  ASSERT_OK(EmptyTrash(fs, tmp.path()));
  EXPECT_EQ(ListFiles(tmp.path()),
            std::vector<std::string>{"archive/date=2025-10-15/machine_id=M1/1760518800000-000042.all.jsonl"});
  EXPECT_EQ(ReadFileOrDie(tmp.path() + "/archive" + kP + "1760518800000-000042.all.jsonl"), "{\"a\":1}\n{\"b\":1}\n");
}

// Staged copies are on disk before FinishStaged renames them: a few synced one by one, more
// by one syncfs after the last (each fdatasync of a new file waits for a journal commit).
TEST_F(ArchiveTest, ManyStagedCopiesAreSyncedByOneSyncOfTheFilesystem) {
  for (int partitions : {2, 6}) {
    TempDir lake;
    std::vector<std::string> segments;
    for (int m = 1; m <= partitions; ++m) {
      const std::string dir = RawDir(lake.path()) + "/date=2025-10-15/machine_id=M" + std::to_string(m) + "/";
      for (const char* name : {"a-1760518800000-000001.jsonl", "b-1760518800000-000002.jsonl"}) {
        WriteFileOrDie(dir + name, "{\"m\":" + std::to_string(m) + "}\n");
        segments.push_back(dir + name);
      }
    }
    vigil::testing::FaultyFileSystem counted;
    Result<ArchivePlan> plan = StageArchive(counted, lake.path(), segments, "1");
    ASSERT_TRUE(plan) << plan.error().message();
    ASSERT_EQ(plan->compacted.size(), static_cast<size_t>(partitions));
    EXPECT_EQ(counted.file_syncs, partitions == 2 ? 2 : 0) << partitions;
    EXPECT_EQ(counted.syncs - counted.file_syncs, partitions == 2 ? 0 : 1) << partitions;
    ASSERT_OK(FinishStaged(counted, lake.path(), *plan, 7));
    EXPECT_EQ(ReadFileOrDie(lake.path() + "/archive/date=2025-10-15/machine_id=M2/1760518800000-000007.all.jsonl"),
              "{\"m\":2}\n{\"m\":2}\n");
  }
}

}  // namespace
}  // namespace vigil::lake
