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

// More than kCompactAbove small segments of a partition become one file; up to that many
// are moved as they are.
TEST_F(ArchiveTest, ABatchsSegmentsOfAPartitionBecomeOneFileInSegmentOrder) {
  static_assert(kCompactAbove == 4, "the partitions below hold 5, 1 and 4 sources");
  const std::vector<std::pair<std::string, std::string>> m1 = {
      {"vibration-1760518800500-000002.jsonl", "{\"v\":2}\n"},
      {"temperature-1760518800000-000001.jsonl", "{\"t\":1}\n{\"t\":2}\n"},
      {"current-1760518800600-000004.jsonl", "{\"c\":4}\n"},
      {"pressure-1760518800700-000005.jsonl", "{\"p\":5}\n"},
      {"failure-1760518800800-000006.jsonl", "{\"f\":6}\n"}};
  std::vector<std::string> segments;
  for (const auto& [name, text] : m1) WriteFileOrDie(Raw(name), text), segments.push_back(Raw(name));
  const std::string m2 = RawDir(tmp.path()) + "/date=2025-10-15/machine_id=M2/vibration-1760518800000-000003.jsonl";
  WriteFileOrDie(m2, "{\"m2\":1}\n");
  segments.push_back(m2);
  std::vector<std::string> m3_archived;
  for (const char* kind : {"a", "b", "c", "d"}) {
    const std::string name = std::string(kind) + "-1760518800000-000009.jsonl";
    WriteFileOrDie(RawDir(tmp.path()) + "/date=2025-10-15/machine_id=M3/" + name, "{}\n");
    segments.push_back(RawDir(tmp.path()) + "/date=2025-10-15/machine_id=M3/" + name);
    m3_archived.push_back("archive/date=2025-10-15/machine_id=M3/" + name);
  }
  int steps = 0;
  ASSERT_OK(ArchiveSegments(fs, tmp.path(), segments, 42, [&] { ++steps; return Status::Ok(); }));
  EXPECT_EQ(steps, 1 + 1 + 4);  // after each move, and after a compacted partition's sources
  // The compacted sources wait in the trash for the next run (EmptyTrash).
  std::vector<std::string> want = {".trash/42-0.jsonl", ".trash/42-1.jsonl", ".trash/42-2.jsonl", ".trash/42-3.jsonl",
                                   ".trash/42-4.jsonl",
                                   "archive/date=2025-10-15/machine_id=M1/1760518800000-000042.all.jsonl",
                                   "archive/date=2025-10-15/machine_id=M2/vibration-1760518800000-000003.jsonl"};
  want.insert(want.end(), m3_archived.begin(), m3_archived.end());
  EXPECT_EQ(ListFiles(tmp.path()), want);
  EXPECT_EQ(ReadFileOrDie(tmp.path() + "/archive" + kP + "1760518800000-000042.all.jsonl"),
            "{\"c\":4}\n{\"f\":6}\n{\"p\":5}\n{\"t\":1}\n{\"t\":2}\n{\"v\":2}\n");
  ASSERT_OK(EmptyTrash(fs, tmp.path()));
  want.erase(want.begin(), want.begin() + 5);
  EXPECT_EQ(ListFiles(tmp.path()), want);
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
  WriteFileOrDie(Raw("e-1760518800004-000005.jsonl"), "{\"e\":1}\n");
  WriteFileOrDie(Raw("f-1760518800005-000006.jsonl"), "{\"f\":1}\n");
  ASSERT_OK(ArchiveSegments(fs, tmp.path(),
                            {Raw("a-1760518800000-000001.jsonl"), Raw("b-1760518800001-000002.jsonl"),
                             Raw("c-1760518800002-000003.jsonl"), Raw("d-1760518800003-000004.jsonl"),
                             Raw("e-1760518800004-000005.jsonl"), Raw("f-1760518800005-000006.jsonl")},
                            7, nullptr));
  ASSERT_OK(EmptyTrash(fs, tmp.path()));
  EXPECT_EQ(ListFiles(tmp.path()),
            (std::vector<std::string>{"archive/date=2025-10-15/machine_id=M1/1760518800001-000007.all.jsonl",
                                      "archive/date=2025-10-15/machine_id=M1/a-1760518800000-000001.jsonl"}));
  EXPECT_TRUE(ReadFileOrDie(tmp.path() + "/archive" + kP + "a-1760518800000-000001.jsonl") == big);
  EXPECT_EQ(ReadFileOrDie(tmp.path() + "/archive" + kP + "1760518800001-000007.all.jsonl"),
            "{\"c\":1}\n{\"d\":1}\n{\"e\":1}\n{\"f\":1}\n");
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
  std::vector<std::string> segments, raw;
  for (const char* kind : {"a", "b", "c", "d", "e"}) {
    const std::string name = std::string(kind) + "-1760518800000-00000" + std::to_string(segments.size() + 1) + ".jsonl";
    // The last has no final newline: one is added.
    WriteFileOrDie(Raw(name), "{\"" + std::string(kind) + "\":1}" + (kind[0] == 'e' ? "" : "\n"));
    segments.push_back(Raw(name));
    raw.push_back("raw/date=2025-10-15/machine_id=M1/" + name);
  }
  ASSERT_OK(ClearStaging(fs, tmp.path()));
  EXPECT_EQ(ListFiles(tmp.path()), raw);
  Result<ArchivePlan> plan = StageArchive(fs, tmp.path(), segments, "1");
  ASSERT_TRUE(plan) << plan.error().message();
  // Staged: a copy beside the sources, which stay in raw/ until the batch has committed.
  std::vector<std::string> staged = raw;
  staged.insert(staged.begin(), ".staging/1-1.jsonl");
  EXPECT_EQ(ListFiles(tmp.path()), staged);
  ASSERT_OK(FinishStaged(fs, tmp.path(), *plan, 42));
  ASSERT_OK(EmptyTrash(fs, tmp.path()));
  EXPECT_EQ(ListFiles(tmp.path()),
            std::vector<std::string>{"archive/date=2025-10-15/machine_id=M1/1760518800000-000042.all.jsonl"});
  EXPECT_EQ(ReadFileOrDie(tmp.path() + "/archive" + kP + "1760518800000-000042.all.jsonl"),
            "{\"a\":1}\n{\"b\":1}\n{\"c\":1}\n{\"d\":1}\n{\"e\":1}\n");
}

// Staged copies are on disk before FinishStaged renames them: a few synced one by one, more
// by one syncfs after the last (each fdatasync of a new file waits for a journal commit).
TEST_F(ArchiveTest, ManyStagedCopiesAreSyncedByOneSyncOfTheFilesystem) {
  for (int partitions : {2, 6}) {
    TempDir lake;
    std::vector<std::string> segments;
    for (int m = 1; m <= partitions; ++m) {
      const std::string dir = RawDir(lake.path()) + "/date=2025-10-15/machine_id=M" + std::to_string(m) + "/";
      for (const char* name : {"a-1760518800000-000001.jsonl", "b-1760518800000-000002.jsonl", "c-1760518800000-000003.jsonl",
                               "d-1760518800000-000004.jsonl", "e-1760518800000-000005.jsonl"}) {
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
              "{\"m\":2}\n{\"m\":2}\n{\"m\":2}\n{\"m\":2}\n{\"m\":2}\n");
  }
}

}  // namespace
}  // namespace vigil::lake
