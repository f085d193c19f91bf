// The store's functions on temporary vigil.db files: processor writes, views, export,
// model registry, alerts, the rebuild's carry-over, and the Db/Stmt helpers.
#include <gtest/gtest.h>

#include <chrono>
#include <climits>
#include <map>
#include <filesystem>
#include <cmath>
#include <cstdio>

#include "common/data_paths.h"
#include "store/db.h"
#include "store/export.h"
#include "store/feature_store.h"
#include "store/model_registry.h"
#include "store/predictions.h"
#include "store/rebuild.h"
#include "store/schema.h"
#include "store/views.h"
#include "test_util.h"

namespace vigil::store {
namespace {

using vigil::testing::TempDir;

constexpr int64_t kT0 = 1760486400000;  // 2025-10-15T00:00:00Z

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.data_dir = tmp_.path();
    path_ = data_paths::Database(tmp_.path());
  }
  std::unique_ptr<FeatureStore> OpenStore() {
    Result<std::unique_ptr<FeatureStore>> s = FeatureStore::Open(path_, config_);
    EXPECT_TRUE(s) << s.error().message();
    return s ? std::move(*s) : nullptr;
  }
  // A store whose one commit wrote a chunk of `readings` readings (24 bytes each) of M1.
  std::unique_ptr<FeatureStore> StoreWithCommit(int64_t readings, std::vector<StoredReading>* big) {
    for (int64_t i = 0; i < readings; ++i) big->push_back({kT0 + i, 0.5 * static_cast<double>(i), kT0 + i});
    auto s = OpenStore();
    if (!s) return nullptr;
    Status st = s->Begin();
    if (st.ok()) st = s->WriteChunk("M1", 0, kT0, *big);
    if (st.ok()) st = s->Commit();
    EXPECT_TRUE(st.ok()) << st.message();
    return st.ok() ? std::move(s) : nullptr;
  }
  FeatureRow Row(int64_t t, std::optional<double> vibration, std::optional<int> label) {
    FeatureRow r;
    r.window_start_ms = t;
    r.sensor_values = {vibration, 40.0};
    r.features.assign(config_.features.size(), std::nullopt);
    r.features[0] = 1.5;
    r.label = label;
    return r;
  }
  TempDir tmp_;
  Config config_;
  std::string path_;
};

// The archive step moves a batch's segments out of raw/ after its commit, and the commit
// must be on disk by then: the processor's commits are not synced (synchronous=NORMAL), the
// archive step syncs the WAL from a descriptor of its own (SyncWal) first. So when Commit
// returns, the whole commit must be in the WAL file, the gathering VFS's buffer written:
// here a transaction past the page cache (8 MiB) that then writes spilled pages again, so
// that SQLite rewrites its frames' checksums after the commit frame. A copy of the files
// (no -shm: SQLite recovers the WAL from the file alone) holds every row.
TEST_F(StoreTest, ACommitIsWholeInTheWalFileWhenCommitReturns) {
  auto s = OpenStore();
  ASSERT_TRUE(s);
  {
    Result<Db> db = Db::Open(path_, OpenMode::kProcessor);
    ASSERT_TRUE(db) << db.error().message();
    Result<Stmt> st = db->Prepare("PRAGMA synchronous");
    ASSERT_TRUE(st);
    int64_t level = -1;
    EXPECT_OK(st->ForEach([&](const Stmt& row) { level = row.Int(0); }));
    EXPECT_EQ(level, 1);  // NORMAL
    Result<Stmt> mode = db->Prepare("PRAGMA journal_mode");
    ASSERT_TRUE(mode);
    std::string journal;
    EXPECT_OK(mode->ForEach([&](const Stmt& row) { journal = row.Text(0); }));
    EXPECT_EQ(journal, "wal");
  }
  std::vector<StoredReading> rs;
  for (int64_t i = 0; i < 600; ++i) rs.push_back({kT0 + i * 1000, 0.5 * static_cast<double>(i), kT0 + i * 1000});
  const int kChunks = 1000;  // 14.4 KB each: ~14 MB, past the cache
  ASSERT_OK(s->Begin());
  for (int c = 0; c < kChunks; ++c) ASSERT_OK(s->WriteChunk("M" + std::to_string(c), 0, kT0, rs));
  rs[0].value = 99.0;
  for (int c = 0; c < 20; ++c) ASSERT_OK(s->WriteChunk("M" + std::to_string(c), 0, kT0, rs));  // spilled pages again
  ASSERT_OK(s->Commit());

  TempDir copy;
  const std::string to = copy.path() + "/vigil.db";
  std::filesystem::copy_file(path_, to);
  std::filesystem::copy_file(path_ + "-wal", to + "-wal");
  Result<std::unique_ptr<FeatureStore>> read = FeatureStore::Open(to, config_);  // recovers the WAL
  ASSERT_TRUE(read) << read.error().message();
  std::vector<StoredReading> back;
  for (int c = 0; c < kChunks; ++c) {
    ASSERT_OK((*read)->ReadChunk("M" + std::to_string(c), 0, kT0, &back));
    ASSERT_EQ(back.size(), rs.size()) << "M" << c;
    EXPECT_EQ(back[0].value, c < 20 ? 99.0 : 0.0) << "M" << c;
  }
}

// A close leaves a WAL up to the carried bound for the next run's checkpoint (nothing in
// it is lost: the next open reads it); past the bound the close copies and deletes it.
TEST_F(StoreTest, ACloseLeavesASmallWalAndCopiesALargerOne) {
  const std::vector<StoredReading> rs = {{kT0, 1.5, kT0 + 10}, {kT0 + 7, 2.5, kT0 + 11}};
  {
    auto s = OpenStore();
    ASSERT_TRUE(s);
    ASSERT_OK(s->Begin());
    ASSERT_OK(s->WriteChunk("M1", 0, kT0, rs));
    ASSERT_OK(s->Commit());
  }
  ASSERT_TRUE(std::filesystem::exists(path_ + "-wal"));
  EXPECT_GT(std::filesystem::file_size(path_ + "-wal"), 0u);
  {
    // The model stage's connection, last to close in the daemon, leaves it too.
    Result<Db> model = Db::Open(path_, OpenMode::kModel);
    ASSERT_TRUE(model);
    ASSERT_OK(model->Exec("CREATE TABLE t(b BLOB)"));
  }
  ASSERT_TRUE(std::filesystem::exists(path_ + "-wal"));
  std::vector<StoredReading> got;
  {
    auto s = OpenStore();
    ASSERT_TRUE(s);
    ASSERT_OK(s->ReadChunk("M1", 0, kT0, &got));
    EXPECT_EQ(got.size(), 2u);
    s->set_carried_wal_bytes(0);
  }
  EXPECT_FALSE(std::filesystem::exists(path_ + "-wal"));
  auto s = OpenStore();
  ASSERT_TRUE(s);
  ASSERT_OK(s->ReadChunk("M1", 0, kT0, &got));
  EXPECT_EQ(got.size(), 2u);
}

// The model stage's commits copy the WAL only past their own bound: the processor's batch
// stays for its next background checkpoint. The copy shows in the database file.
TEST_F(StoreTest, TheModelStagesCommitCopiesTheWalOnlyPastItsBound) {
  ASSERT_TRUE(OpenStore());
  const auto db_bytes = [&] { return static_cast<int64_t>(std::filesystem::file_size(path_)); };
  Result<Db> model = Db::Open(path_, OpenMode::kModel);
  ASSERT_TRUE(model);
  ASSERT_OK(model->Exec("CREATE TABLE t(b BLOB); INSERT INTO t VALUES(zeroblob(1048576))"));
  EXPECT_LT(db_bytes(), int64_t{1} << 20);  // still in the WAL
  ASSERT_OK(model->Exec("INSERT INTO t VALUES(zeroblob(" + std::to_string(kCarriedWalBytes) + "))"));
  EXPECT_LT(db_bytes(), int64_t{1} << 20);  // past the processor's carried bound, not the model stage's
  ASSERT_OK(model->Exec("INSERT INTO t VALUES(zeroblob(" + std::to_string(kModelCheckpointWalBytes) + "))"));
  EXPECT_GT(db_bytes(), kModelCheckpointWalBytes);
}

// The close's rule counts what the last commit left in the WAL, not the file, which keeps
// the size of the largest batch since it was created.
TEST_F(StoreTest, ACloseLeavesASmallLastCommitInALargeWalFile) {
  std::vector<StoredReading> big;
  const std::vector<StoredReading> small = {{kT0, 1.5, kT0 + 10}};
  {
    auto s = StoreWithCommit(100'000, &big);  // 2.4 MB
    ASSERT_TRUE(s);
    s->set_carried_wal_bytes(int64_t{1} << 20);
    s->StartCheckpoint();
    ASSERT_OK(s->Begin());  // waits for it: the WAL starts over
    ASSERT_OK(s->WriteChunk("M2", 0, kT0, small));
    ASSERT_OK(s->Commit());
  }
  ASSERT_TRUE(std::filesystem::exists(path_ + "-wal"));
  EXPECT_GT(std::filesystem::file_size(path_ + "-wal"), uintmax_t{1} << 20);
  {
    auto s = OpenStore();  // a connection with no commit of its own: the file's size counts
    ASSERT_TRUE(s);
    s->set_carried_wal_bytes(int64_t{1} << 20);
  }
  EXPECT_FALSE(std::filesystem::exists(path_ + "-wal"));
  auto s = OpenStore();
  ASSERT_TRUE(s);
  std::vector<StoredReading> got;
  ASSERT_OK(s->ReadChunk("M1", 0, kT0, &got));
  EXPECT_EQ(got.size(), big.size());
  ASSERT_OK(s->ReadChunk("M2", 0, kT0, &got));
  EXPECT_EQ(got.size(), 1u);
}

// A last commit of 20 MB, less than a from-scratch batch's (41 MB at 10M lines) and more than
// a routine batch's (13 MB), is copied at the close and the WAL deleted: the next run's open
// has no large WAL to read through before it can start.
TEST_F(StoreTest, ACloseCopiesALargeLastCommit) {
  constexpr int64_t kBytes = int64_t{20} << 20;
  std::vector<StoredReading> big;
  {
    auto s = StoreWithCommit(kBytes / int64_t{sizeof(StoredReading)}, &big);
    ASSERT_TRUE(s);
    ASSERT_GT(std::filesystem::file_size(path_ + "-wal"), static_cast<uintmax_t>(kBytes));
  }
  EXPECT_FALSE(std::filesystem::exists(path_ + "-wal"));
  EXPECT_GT(std::filesystem::file_size(path_), static_cast<uintmax_t>(kBytes));
  auto s = OpenStore();
  ASSERT_TRUE(s);
  std::vector<StoredReading> got;
  ASSERT_OK(s->ReadChunk("M1", 0, kT0, &got));
  EXPECT_EQ(got.size(), big.size());
}

TEST_F(StoreTest, ChunksAndPartialsRoundTripPerSeries) {
  auto s = OpenStore();
  ASSERT_TRUE(s);
  std::vector<StoredReading> got;
  ASSERT_OK(s->ReadChunk("M1", 0, kT0, &got));
  EXPECT_TRUE(got.empty());  // absent: empty
  const std::vector<StoredReading> rs = {{kT0, 1.5, kT0 + 10}, {kT0 + 7, -0.0, kT0 + 11}, {kT0 + 999, 1e300, kT0 + 5}};
  ASSERT_OK(s->Begin());
  ASSERT_OK(s->WriteChunk("M1", 0, kT0, rs));
  ASSERT_OK(s->Commit());
  ASSERT_OK(s->ReadChunk("M1", 0, kT0, &got));
  ASSERT_EQ(got.size(), 3u);
  for (size_t i = 0; i < rs.size(); ++i) {
    EXPECT_EQ(got[i].ts_ms, rs[i].ts_ms);
    EXPECT_EQ(got[i].value, rs[i].value);
    EXPECT_EQ(got[i].received_ms, rs[i].received_ms);
  }
  EXPECT_TRUE(std::signbit(got[1].value));
  ASSERT_OK(s->ReadChunk("M1", 1, kT0, &got));  // another sensor
  EXPECT_TRUE(got.empty());
  ASSERT_OK(s->ReadChunk("M2", 0, kT0, &got));  // another machine
  EXPECT_TRUE(got.empty());

  ASSERT_OK(s->WritePartial("M1", 0, 60'000, {kT0, 3, 6.0, 2.0, 2.0, 1.0, 3.0, 3.0}));
  ASSERT_OK(s->WritePartial("M1", 0, 60'000, {kT0 + 60'000, 1, 5.0, 5.0, 0.0, 5.0, 5.0, 5.0}));
  ASSERT_OK(s->WritePartial("M1", 0, 90'000, {kT0, 1, 7.0, 7.0, 0.0, 7.0, 7.0, 7.0}));  // another block length
  std::vector<BlockPartial> ps;
  ASSERT_OK(s->ReadPartials("M1", 0, 60'000, kT0, kT0 + 120'000, &ps));
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0].n, 3);
  EXPECT_EQ(ps[0].m2, 2.0);
  EXPECT_EQ(ps[1].start_ms, kT0 + 60'000);
  ASSERT_OK(s->ReadPartials("M1", 0, 60'000, kT0 + 1, kT0 + 120'000, &ps));  // [from, to)
  ASSERT_EQ(ps.size(), 1u);
}

TEST_F(StoreTest, ChunkPartsReadAsOneAndWriteChunkMergesThem) {
  auto s = OpenStore();
  ASSERT_TRUE(s);
  constexpr int64_t kChunk = 600'000;
  ASSERT_OK(s->AppendChunkPart("M1", 0, kT0, 0, {{kT0, 1.0, 1}, {kT0 + 5, 2.0, 1}}));
  ASSERT_OK(s->AppendChunkPart("M1", 0, kT0, 1, {{kT0 + 9, 3.0, 1}}));
  ASSERT_OK(s->AppendChunkPart("M1", 0, kT0, 2, {{kT0 + 70'000, 4.0, 1}}));
  ASSERT_OK(s->AppendChunkPart("M1", 0, kT0 + kChunk, 0, {{kT0 + kChunk, 5.0, 1}}));  // the next chunk
  EXPECT_FALSE(s->AppendChunkPart("M1", 0, kT0, kMaxChunkParts, {{kT0 + 80'000, 6.0, 1}}).ok());
  std::vector<StoredReading> got;
  int parts = 0;
  ASSERT_OK(s->ReadChunk("M1", 0, kT0, &got, &parts));
  EXPECT_EQ(parts, 3);
  ASSERT_EQ(got.size(), 4u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].value, 1.0 + static_cast<double>(i));
  got.clear();
  ASSERT_OK(s->ReadChunks("M1", 0, kT0, kT0 + 2 * kChunk, &got));
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[4].value, 5.0);

  ASSERT_OK(s->WriteChunk("M1", 0, kT0, {{kT0, 1.0, 1}, {kT0 + 9, 3.5, 1}}, parts));
  ASSERT_OK(s->ReadChunk("M1", 0, kT0, &got, &parts));
  EXPECT_EQ(parts, 1);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].value, 3.5);
  ASSERT_OK(s->ReadChunk("M1", 0, kT0 + kChunk, &got, &parts));  // untouched
  EXPECT_EQ(parts, 1);
  ASSERT_EQ(got.size(), 1u);
}

// A store from before series_tails has no row there: the tail comes from the newest chunk
// row; one set is read back as set.
TEST_F(StoreTest, ASeriesTailComesFromItsNewestChunkUntilOneIsSet) {
  auto s = OpenStore();
  ASSERT_TRUE(s);
  constexpr int64_t kChunk = 600'000;
  Result<std::optional<FeatureStore::SeriesTail>> t = s->Tail("M1", 0, kChunk);
  ASSERT_TRUE(t);
  EXPECT_FALSE(*t);  // nothing stored
  ASSERT_OK(s->WriteChunk("M1", 0, kT0, {{kT0 + 3, 1.0, 1}}));
  ASSERT_OK(s->AppendChunkPart("M1", 0, kT0 + kChunk, 0, {{kT0 + kChunk + 1, 2.0, 1}}));
  ASSERT_OK(s->AppendChunkPart("M1", 0, kT0 + kChunk, 1, {{kT0 + kChunk + 2, 2.0, 1}, {kT0 + kChunk + 8, 2.5, 1}}));
  t = s->Tail("M1", 0, kChunk);
  ASSERT_TRUE(t && *t);
  EXPECT_EQ((*t)->chunk_ms, kT0 + kChunk);
  EXPECT_EQ((*t)->parts, 2);
  EXPECT_EQ((*t)->last_ms, kT0 + kChunk + 8);
  t = s->Tail("M1", 1, kChunk);  // another sensor
  ASSERT_TRUE(t);
  EXPECT_FALSE(*t);

  ASSERT_OK(s->SetTail("M1", 0, {kT0 + 2 * kChunk, 3, kT0 + 2 * kChunk + 4}));
  t = s->Tail("M1", 0, kChunk);
  ASSERT_TRUE(t && *t);
  EXPECT_EQ((*t)->chunk_ms, kT0 + 2 * kChunk);
  EXPECT_EQ((*t)->parts, 3);
  EXPECT_EQ((*t)->last_ms, kT0 + 2 * kChunk + 4);
}

TEST_F(StoreTest, ChunkRangesReadInTimeOrderAndSlopeMomentsRoundTrip) {
  auto s = OpenStore();
  ASSERT_TRUE(s);
  ASSERT_OK(s->WriteChunk("M1", 0, kT0 + 600'000, {{kT0 + 600'000, 2.0, 1}}));
  ASSERT_OK(s->WriteChunk("M1", 0, kT0, {{kT0, 1.0, 1}, {kT0 + 5, 1.5, 1}}));
  ASSERT_OK(s->WriteChunk("M1", 0, kT0 + 1'200'000, {{kT0 + 1'200'000, 3.0, 1}}));
  std::vector<StoredReading> got = {{0, 9.0, 0}};  // appended to
  ASSERT_OK(s->ReadChunks("M1", 0, kT0, kT0 + 1'200'000, &got));  // [from, to) of chunk starts
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[1].value, 1.0);
  EXPECT_EQ(got[2].value, 1.5);
  EXPECT_EQ(got[3].value, 2.0);
  BlockPartial p{kT0, 2, 3.0, 1.5, 0.5, 1.0, 2.0, 2.0, kT0 - 7, 0.25, 0.125, -0.0625};
  ASSERT_OK(s->WritePartial("M1", 0, 60'000, p));
  std::vector<BlockPartial> ps;
  ASSERT_OK(s->ReadPartials("M1", 0, 60'000, kT0, kT0 + 1, &ps));
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].origin_ms, kT0 - 7);
  EXPECT_EQ(ps[0].mean_t, 0.25);
  EXPECT_EQ(ps[0].m2_t, 0.125);
  EXPECT_EQ(ps[0].c_tv, -0.0625);
}

TEST_F(StoreTest, AStoreWithoutTheSlopeColumnsGetsThemWhenItOpens) {
  {
    auto s = OpenStore();
    ASSERT_TRUE(s);
  }
  {  // as a store of layout v3 made before the slope aggregate
    Result<Db> db = Db::Open(path_, OpenMode::kReadWrite);
    ASSERT_TRUE(db);
    ASSERT_OK(db->Exec("DROP TABLE block_partials; CREATE TABLE block_partials(machine_id TEXT NOT NULL, sensor TEXT NOT NULL,"
                       " block_ms INTEGER NOT NULL, start_ms INTEGER NOT NULL, n INTEGER NOT NULL, sum REAL, mean REAL, m2 REAL,"
                       " min REAL, max REAL, last REAL, PRIMARY KEY(machine_id, sensor, block_ms, start_ms)) WITHOUT ROWID;"
                       "INSERT INTO block_partials VALUES('M1', 'vibration', 60000, 0, 1, 1, 1, 0, 1, 1, 1);"));
  }
  auto s = OpenStore();
  ASSERT_TRUE(s);
  std::vector<BlockPartial> ps;
  ASSERT_OK(s->ReadPartials("M1", 0, 60'000, 0, 1, &ps));  // the old row reads, moments NULL -> 0
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].n, 1);
  EXPECT_EQ(ps[0].c_tv, 0.0);
  ASSERT_OK(s->WritePartial("M1", 0, 60'000, {60'000, 1, 2, 2, 0, 2, 2, 2, 60'000, 0, 0, 0}));
}

TEST_F(StoreTest, LabelRangeUpdatesTouchOnlyWhatChangesAndSayWhereTheyBegan) {
  auto s = OpenStore();
  ASSERT_TRUE(s);
  const int64_t H = config_.processing.label_horizon_ms;
  ASSERT_OK(s->Begin());
  for (int i = 0; i < 5; ++i) ASSERT_OK(s->UpsertRow("M1", Row(kT0 + i * 1000, 1.0, std::nullopt)));
  bool added = false;
  ASSERT_OK(s->InsertFailure("M1", kT0 + 2500 + H, "F", &added));
  // A failure labels the horizon before it (here the rows from kT0 + 3000: t < f <= t + H).
  Result<int64_t> first = s->LabelFailing("M1", kT0 + 3000, kT0 + 5000);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, kT0 + 3000);
  // Decided rows (the caller's range): 1 when a failure lies in (t, t + H], else 0; only
  // undecided rows change.
  first = s->LabelDecided("M1", kT0, kT0 + 5000);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, kT0);
  first = s->LabelDecided("M1", kT0, kT0 + 5000);  // again: nothing left undecided
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, INT64_MAX);
  first = s->LabelFailing("M1", kT0 + 3000, kT0 + 5000);  // already 1
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, INT64_MAX);
  ASSERT_OK(s->Commit());
  std::vector<FeatureRow> rows;
  ASSERT_OK(s->Rows("M1", kT0, kT0 + 5000, &rows));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].label, 0);
  EXPECT_EQ(rows[1].label, 0);
  EXPECT_EQ(rows[2].label, 0);  // kT0 + 2000 + H < failure
  EXPECT_EQ(rows[3].label, 1);
  EXPECT_EQ(rows[4].label, 1);
  Result<int64_t> latest = s->LatestRow("M1");
  ASSERT_TRUE(latest);
  EXPECT_EQ(*latest, kT0 + 4000);
  latest = s->LatestRow("M9");
  ASSERT_TRUE(latest);
  EXPECT_EQ(*latest, INT64_MIN);
}

// label_counts follows every write of a label: new rows, rewritten rows (their old labels
// leave), a failure's range update (from 0 and from NULL), a watermark's (to 1 and to 0),
// a rolled-back transaction (nothing), and a store made before the table gets it filled.
TEST_F(StoreTest, LabelCountsFollowEveryLabelWriteAndAnOldStoreGetsThem) {
  const int64_t H = config_.processing.label_horizon_ms;
  auto counts = [&](FeatureStore& s) {
    std::map<std::string, LabelCounts> c;
    EXPECT_OK(s.ReadLabelCounts(&c));
    return c["M1"];
  };
  {
    auto s = OpenStore();
    ASSERT_TRUE(s);
    ASSERT_OK(s->Begin());
    std::vector<FeatureRow> rows;
    for (int i = 0; i < 6; ++i) rows.push_back(Row(kT0 + i * 1000, 1.0, i < 2 ? std::optional<int>(0) : std::nullopt));
    ASSERT_OK(s->UpsertRows("M1", rows, 0, rows.size()));
    EXPECT_EQ(counts(*s), (LabelCounts{0, 2, 4}));
    // Rows 1..3 rewritten (row 1 from 0 to NULL); row 6 new.
    std::vector<FeatureRow> again;
    for (int i = 1; i < 4; ++i) again.push_back(Row(kT0 + i * 1000, 2.0, std::nullopt));
    ASSERT_OK(s->UpsertRows("M1", again, 0, again.size()));
    ASSERT_OK(s->UpsertRow("M1", Row(kT0 + 6000, 1.0, 0)));
    EXPECT_EQ(counts(*s), (LabelCounts{0, 2, 5}));
    bool added = false;
    ASSERT_OK(s->InsertFailure("M1", kT0 + 4500 + H, "F", &added));
    ASSERT_TRUE(s->LabelFailing("M1", kT0 + 5000, kT0 + 7000));  // row 5 (NULL) and row 6 (0)
    EXPECT_EQ(counts(*s), (LabelCounts{2, 1, 4}));
    ASSERT_OK(s->InsertFailure("M1", kT0 + 3500 + H, "F", &added));  // within H of row 4 only, not applied
    ASSERT_TRUE(s->LabelDecided("M1", kT0, kT0 + 7000));  // NULL rows 1..3 -> 0, row 4 -> 1
    EXPECT_EQ(counts(*s), (LabelCounts{3, 4, 0}));
    ASSERT_OK(s->Commit());
    ASSERT_OK(s->Begin());
    ASSERT_OK(s->UpsertRow("M1", Row(kT0 + 9000, 1.0, std::nullopt)));
    s->Rollback();
    EXPECT_EQ(counts(*s), (LabelCounts{3, 4, 0}));
    std::vector<FeatureRow> stored;
    ASSERT_OK(s->Rows("M1", kT0, kT0 + 7000, &stored));
    LabelCounts want;
    for (const FeatureRow& r : stored) want.Add(r.label, 1);
    EXPECT_EQ(counts(*s), want);
  }
  {  // as a store made before label_counts
    Result<Db> db = Db::Open(path_, OpenMode::kReadWrite);
    ASSERT_TRUE(db);
    ASSERT_OK(db->Exec("DROP TABLE label_counts"));
  }
  auto s = OpenStore();
  ASSERT_TRUE(s);
  EXPECT_EQ(counts(*s), (LabelCounts{3, 4, 0}));
  s.reset();
  Result<StoreStatus> st = ReadStatus(path_, config_);
  ASSERT_TRUE(st) << st.error().message();
  ASSERT_EQ(st->machines.size(), 0u);  // no latest_features row written here
}

TEST_F(StoreTest, WatermarksFailuresAndConsumedSegments) {
  auto s = OpenStore();
  ASSERT_TRUE(s);
  Result<int64_t> wm = s->Watermark("M1");
  ASSERT_TRUE(wm);
  EXPECT_EQ(*wm, INT64_MIN);
  ASSERT_OK(s->SetWatermark("M1", kT0));
  EXPECT_EQ(*s->Watermark("M1"), kT0);
  bool added = false;
  ASSERT_OK(s->InsertFailure("M1", kT0, "F1", &added));
  EXPECT_TRUE(added);
  ASSERT_OK(s->InsertFailure("M1", kT0, "F1", &added));
  EXPECT_FALSE(added);
  std::vector<int64_t> failures;
  ASSERT_OK(s->FailuresOf("M1", &failures));
  EXPECT_EQ(failures, std::vector<int64_t>{kT0});
  EXPECT_EQ(*s->ConsumedBy("raw/a.jsonl"), 0);
  ASSERT_OK(s->MarkConsumed("raw/a.jsonl", 7));
  EXPECT_EQ(*s->ConsumedBy("raw/a.jsonl"), 7);
}

TEST_F(StoreTest, RowsKeepNullsAndStatusShowsTheLatestRowAndBatch) {
  auto s = OpenStore();
  ASSERT_TRUE(s);
  ASSERT_OK(s->UpsertRow("M1", Row(kT0, 3.0, 0)));
  ASSERT_OK(s->UpsertRow("M1", Row(kT0 + 1000, std::nullopt, std::nullopt)));
  ASSERT_OK(s->RefreshLatest("M1"));
  std::vector<FeatureRow> rows;
  ASSERT_OK(s->Rows("M1", kT0, kT0 + 2000, &rows));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].sensor_values[0], 3.0);
  EXPECT_EQ(rows[0].label, 0);
  EXPECT_EQ(rows[1].sensor_values[0], std::nullopt);
  EXPECT_EQ(rows[1].features[1], std::nullopt);
  EXPECT_EQ(rows[1].label, std::nullopt);
  BatchRecord b;
  b.segments = 2;
  b.rows = 2;
  b.outcome = "committed";
  Result<int64_t> id = s->RecordBatch(b);
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, 1);
  s.reset();

  Result<StoreStatus> st = ReadStatus(path_, config_);
  ASSERT_TRUE(st) << st.error().message();
  ASSERT_EQ(st->machines.size(), 1u);
  EXPECT_EQ(st->machines[0].window_start_ms, kT0 + 1000);
  EXPECT_EQ(st->machines[0].label0, 1);
  EXPECT_EQ(st->machines[0].label_null, 1);
  EXPECT_FALSE(st->machines[0].failure_probability);  // no model stage yet
  EXPECT_EQ(st->batches, 1);
  ASSERT_TRUE(st->last_batch);
  EXPECT_EQ(st->last_batch->outcome, "committed");
  EXPECT_EQ(ReadStatus(tmp_.path() + "/none.db", config_).error().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, AnotherConfigurationIsRefused) {
  ASSERT_TRUE(OpenStore());
  Config other = config_;
  other.processing.window_ms *= 2;
  Result<std::unique_ptr<FeatureStore>> s = FeatureStore::Open(path_, other);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.error().message().find("vigil reprocess --all"), std::string::npos);
  EXPECT_NE(Fingerprint(other), Fingerprint(config_));
}

TEST_F(StoreTest, SeriesFillsEmptyBucketsAndAnUnknownMachineIsNotFound) {
  {
    auto s = OpenStore();
    ASSERT_TRUE(s);
    ASSERT_OK(s->UpsertRow("M1", Row(kT0, 2.0, 0)));
    ASSERT_OK(s->UpsertRow("M1", Row(kT0 + 1000, 4.0, 0)));
    ASSERT_OK(s->UpsertRow("M1", Row(kT0 + 3000, 8.0, 0)));
    ASSERT_OK(s->RefreshLatest("M1"));
  }
  Result<Series> series = ReadSeries(path_, config_, {"M1", kT0, kT0 + 4000, 2000});
  ASSERT_TRUE(series) << series.error().message();
  EXPECT_EQ(series->t, (std::vector<int64_t>{kT0, kT0 + 2000}));
  EXPECT_EQ(series->values[0][0], 3.0);  // mean of 2 and 4
  EXPECT_EQ(series->values[0][1], 8.0);
  EXPECT_TRUE(series->predictions.empty());
  EXPECT_TRUE(series->alerts.empty());
  EXPECT_EQ(ReadSeries(path_, config_, {"M2", kT0, kT0 + 4000, 2000}).error().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, ExportWritesIsoTimesAndEmptyCellsForNull) {
  {
    auto s = OpenStore();
    ASSERT_TRUE(s);
    ASSERT_OK(s->UpsertRow("M1", Row(kT0, std::nullopt, 1)));
    ASSERT_OK(s->UpsertRow("M1", Row(kT0 + 1000, 2.5, std::nullopt)));  // unlabelled: left out
  }
  const std::string out_path = tmp_.path() + "/out.csv";
  std::FILE* f = std::fopen(out_path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  Result<int64_t> rows = ExportCsv(path_, config_, ExportQuery{}, f);
  std::fclose(f);
  ASSERT_TRUE(rows) << rows.error().message();
  EXPECT_EQ(*rows, 1);
  const std::string csv = vigil::testing::ReadFileOrDie(out_path);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "machine_id,window_start,vibration_rms,temperature_celsius,vib_mean_5h,vib_std_5h,vib_max_5h,"
            "temp_mean_24h,temp_max_24h,label_failure_7d");
  EXPECT_NE(csv.find("M1,2025-10-15T00:00:00.000Z,,40,1.5,,,,,1\n"), std::string::npos) << csv;
}

// Issue 19: with a RUL cap the training set carries the remaining-useful-life label that
// vigil train learns (common/remaining_life.h): hours to the next failure, capped, empty
// while the watermark does not prove the cap.
TEST_F(StoreTest, ExportAddsTheRemainingLifeLabelWithACap) {
  constexpr int64_t kHour = 3'600'000;
  {
    auto s = OpenStore();
    ASSERT_TRUE(s);
    ASSERT_OK(s->Begin());
    for (int h = 0; h < 7; ++h) ASSERT_OK(s->UpsertRow("M1", Row(kT0 + h * kHour, 2.0, 0)));
    ASSERT_OK(s->UpsertRow("M2", Row(kT0, 2.0, 0)));  // no failure, no watermark row: unknown
    bool added = false;
    ASSERT_OK(s->InsertFailure("M1", kT0 + 3 * kHour + kHour / 2, "F", &added));
    ASSERT_OK(s->SetWatermark("M1", kT0 + 7 * kHour));
    ASSERT_OK(s->Commit());
  }
  auto export_with = [&](int64_t cap_ms) {
    const std::string out_path = tmp_.path() + "/rul.csv";
    std::FILE* f = std::fopen(out_path.c_str(), "w");
    EXPECT_NE(f, nullptr);
    ExportQuery q;
    q.rul_cap_ms = cap_ms;
    Result<int64_t> rows = ExportCsv(path_, config_, q, f);
    std::fclose(f);
    EXPECT_TRUE(rows) << rows.error().message();
    return vigil::testing::ReadFileOrDie(out_path);
  };
  const std::string csv = export_with(2 * kHour);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "machine_id,window_start,vibration_rms,temperature_celsius,vib_mean_5h,vib_std_5h,vib_max_5h,"
            "temp_mean_24h,temp_max_24h,label_failure_7d,label_rul_hours");
  // M1 fails at 03:30, its watermark is 07:00: 00:00 and 01:00 are more than the cap (2 h)
  // away, so the cap; 02:00 and 03:00 are 1.5 h and 0.5 h away; 04:00 and 05:00 have no
  // failure after them, and the watermark is 3 h and 2 h on: the cap; 06:00's cap is not
  // proven yet (the watermark is 1 h on).
  for (const char* line : {"M1,2025-10-15T00:00:00.000Z,2,40,1.5,,,,,0,2\n", "M1,2025-10-15T01:00:00.000Z,2,40,1.5,,,,,0,2\n",
                           "M1,2025-10-15T02:00:00.000Z,2,40,1.5,,,,,0,1.5\n", "M1,2025-10-15T03:00:00.000Z,2,40,1.5,,,,,0,0.5\n",
                           "M1,2025-10-15T04:00:00.000Z,2,40,1.5,,,,,0,2\n", "M1,2025-10-15T05:00:00.000Z,2,40,1.5,,,,,0,2\n",
                           "M1,2025-10-15T06:00:00.000Z,2,40,1.5,,,,,0,\n",
                           "M2,2025-10-15T00:00:00.000Z,2,40,1.5,,,,,0,\n"}) {
    EXPECT_NE(csv.find(line), std::string::npos) << line << " not in\n" << csv;
  }
  // Without a cap: no such column.
  const std::string plain = export_with(0);
  EXPECT_EQ(plain.find("label_rul_hours"), std::string::npos);
}

TEST_F(StoreTest, RegistryPromotesAndRollsBack) {
  EXPECT_EQ(ModelDb::Open(path_).error().code(), StatusCode::kNotFound);  // no vigil.db yet
  ASSERT_TRUE(OpenStore());
  Result<ModelDb> db = ModelDb::Open(path_);
  ASSERT_TRUE(db) << db.error().message();
  ModelRecord m;
  m.created_ms = kT0;
  m.status = "candidate";
  m.file = "/models/model-1.json";
  const int64_t first = *InsertModel(*db, m);
  const int64_t second = *InsertModel(*db, m);
  m.id = second;
  m.file.clear();
  m.status = "rejected";
  ASSERT_OK(UpdateModel(*db, m));  // the second has no file now
  EXPECT_EQ(Promote(*db, second, kT0).code(), StatusCode::kNotFound);
  EXPECT_EQ(Promote(*db, 99, kT0).code(), StatusCode::kNotFound);
  EXPECT_FALSE(CurrentModel(*db)->has_value());
  ASSERT_OK(Promote(*db, first, kT0 + 1));
  Result<std::optional<ModelRecord>> cur = CurrentModel(*db);
  ASSERT_TRUE(cur && *cur);
  EXPECT_EQ((*cur)->id, first);
  EXPECT_EQ((*cur)->status, "promoted");
  Result<std::optional<int64_t>> back = Rollback(*db);
  ASSERT_TRUE(back);
  EXPECT_FALSE(*back);
  Result<std::vector<ModelRecord>> all = ListModels(*db);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].status, "retired");
  EXPECT_EQ((*all)[1].status, "rejected");
}

TEST_F(StoreTest, CountFailuresIsExclusiveAtBothEnds) {
  auto s = OpenStore();
  ASSERT_TRUE(s);
  bool added = false;
  for (int64_t t : {kT0, kT0 + 1, kT0 + 2}) ASSERT_OK(s->InsertFailure("M1", t, "F", &added));
  Result<ModelDb> db = ModelDb::Open(path_);
  ASSERT_TRUE(db);
  EXPECT_EQ(*CountFailures(*db, kT0, kT0 + 2), 1);
  EXPECT_EQ(*CountFailures(*db, kT0 - 1, kT0 + 3), 3);
}

TEST_F(StoreTest, AlertsAreReadNewestFirstAndPublishedOnce) {
  // Without vigil.db: no alerts and nothing to publish, not errors.
  EXPECT_TRUE(ReadAlerts(path_, "", 10).empty());
  Result<std::vector<std::pair<int64_t, Alert>>> none = ReadUnpublishedAlerts(path_, 10);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(OpenStore());
  {
    Result<ModelDb> db = ModelDb::Open(path_);
    ASSERT_TRUE(db);
    ASSERT_OK(InsertAlert(*db, {"M1", kT0, "iso_zone", "watch", 5.0, "one", std::nullopt}));
    ASSERT_OK(InsertAlert(*db, {"M2", kT0 + 1, "failure_probability", "warning", 0.6, "two", std::nullopt}));
    ASSERT_OK(InsertAlert(*db, {"M1", kT0 + 2, "iso_zone", "critical", 12.0, "three", std::nullopt}));
  }
  std::vector<Alert> all = ReadAlerts(path_, "", 10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].message, "three");
  EXPECT_EQ(all[2].message, "one");
  std::vector<Alert> m1 = ReadAlerts(path_, "M1", 1);
  ASSERT_EQ(m1.size(), 1u);
  EXPECT_EQ(m1[0].level, "critical");
  EXPECT_EQ(m1[0].value, 12.0);

  Result<std::vector<std::pair<int64_t, Alert>>> pending = ReadUnpublishedAlerts(path_, 2);
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 2u);  // the oldest two, in id order
  EXPECT_EQ((*pending)[0].second.message, "one");
  ASSERT_OK(MarkAlertsPublished(path_, (*pending)[1].first));
  pending = ReadUnpublishedAlerts(path_, 10);
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].second.message, "three");
  Result<Series> series = ReadSeries(path_, config_, {"M1", kT0, kT0 + 10, 10});
  EXPECT_FALSE(series);  // M1 has no features row: unknown to the views
}

// Issue 19: a store whose model-stage tables predate rul_hours gets the column in place
// (ALTER TABLE) the first time the model stage opens it; its rows keep their values and
// read NULL for it. Before that, the read-only views still read its alerts.
TEST_F(StoreTest, AStoreWithoutRulHoursGetsTheColumnWhenTheModelStageOpensIt) {
  ASSERT_TRUE(OpenStore());
  {  // the model-stage tables as a vigil before issue 19's RUL made them
    Result<Db> db = Db::Open(path_, OpenMode::kReadWrite);
    ASSERT_TRUE(db);
    ASSERT_OK(db->Exec(
        "CREATE TABLE predictions(machine_id TEXT NOT NULL, window_start_ms INTEGER NOT NULL,"
        " model_id INTEGER NOT NULL, failure_probability_7d REAL NOT NULL,"
        " PRIMARY KEY(machine_id, window_start_ms, model_id)) WITHOUT ROWID;"
        "CREATE TABLE latest_predictions(machine_id TEXT PRIMARY KEY, window_start_ms INTEGER NOT NULL,"
        " model_id INTEGER, failure_probability_7d REAL, anomaly_score REAL);"
        "CREATE TABLE alerts(id INTEGER PRIMARY KEY, machine_id TEXT NOT NULL, ts_ms INTEGER NOT NULL,"
        " kind TEXT NOT NULL, level TEXT NOT NULL, value REAL, message TEXT NOT NULL,"
        " published INTEGER NOT NULL DEFAULT 0);"
        "INSERT INTO predictions VALUES('M1', 1000, 1, 0.25);"
        "INSERT INTO latest_predictions VALUES('M1', 1000, 1, 0.25, 0.5);"
        "INSERT INTO alerts(machine_id, ts_ms, kind, level, value, message) VALUES('M1', 1000, 'failure_probability',"
        " 'warning', 0.25, 'old');"));
  }
  auto columns = [&](const std::string& table) {
    std::string out;
    Result<Db> db = Db::Open(path_, OpenMode::kReadOnly);
    EXPECT_TRUE(db);
    Result<Stmt> st = db->Prepare("SELECT name FROM pragma_table_info(" + Quoted(table) + ") ORDER BY cid");
    EXPECT_TRUE(st);
    EXPECT_OK(st->ForEach([&](const Stmt& row) { out += row.Text(0) + " "; }));
    return out;
  };
  EXPECT_EQ(columns("predictions").find("rul_hours"), std::string::npos);
  std::vector<Alert> before = ReadAlerts(path_, "", 10);  // read-only, without the column
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].message, "old");
  EXPECT_FALSE(before[0].rul_hours);

  {
    Result<ModelDb> db = ModelDb::Open(path_);
    ASSERT_TRUE(db) << db.error().message();
    ASSERT_OK(InsertAlert(*db, {"M1", 2000, "failure_probability", "critical", 0.9, "new", 12.5}));
  }
  for (const char* t : {"predictions", "latest_predictions", "alerts"}) {
    EXPECT_NE(columns(t).find("rul_hours"), std::string::npos) << t << ": " << columns(t);
  }
  {
    Result<Db> db = Db::Open(path_, OpenMode::kReadOnly);
    ASSERT_TRUE(db);
    Result<Stmt> st = db->Prepare("SELECT failure_probability_7d, rul_hours FROM predictions");
    ASSERT_TRUE(st);
    ASSERT_OK(st->ForEach([&](const Stmt& row) {
      EXPECT_EQ(row.Double(0), 0.25);
      EXPECT_TRUE(row.IsNull(1));
    }));
  }
  std::vector<Alert> after = ReadAlerts(path_, "", 10);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].message, "new");
  EXPECT_EQ(after[0].rul_hours, 12.5);
  EXPECT_FALSE(after[1].rul_hours);
  // Opening again does not add it twice (the ALTER would fail).
  ASSERT_TRUE(ModelDb::Open(path_));
}

TEST_F(StoreTest, CarryOverCopiesTheModelStagesTablesIntoARebuild) {
  ASSERT_TRUE(OpenStore());
  {
    Result<ModelDb> db = ModelDb::Open(path_);
    ASSERT_TRUE(db);
    ASSERT_OK(InsertAlert(*db, {"M1", kT0, "iso_zone", "watch", 5.0, "kept", std::nullopt}));
  }
  const std::string rebuilt = data_paths::RebuildDatabase(tmp_.path());
  ASSERT_TRUE(FeatureStore::Open(rebuilt, config_));
  ASSERT_OK(CarryOverTables(path_, rebuilt));
  ASSERT_OK(ReplaceDatabase(rebuilt, path_));
  std::vector<Alert> alerts = ReadAlerts(path_, "", 10);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].message, "kept");
}

// `vigil reprocess --all`'s swap beside a reader holding a read transaction open (a
// notebook, the sqlite3 shell): it succeeds at once, the reader keeps its snapshot until
// it ends its transaction, and predictions of windows the rebuild lacks are gone.
TEST_F(StoreTest, ReplaceDatabaseWorksBesideAnOpenReadTransactionAndDropsStalePredictions) {
  {
    auto s = OpenStore();
    ASSERT_TRUE(s);
    ASSERT_OK(s->UpsertRow("M1", Row(kT0, 3.0, 0)));
    ASSERT_OK(s->UpsertRow("M1", Row(kT0 + 30'000, 4.0, 0)));  // a 30 s window...
  }
  {
    Result<ModelDb> db = ModelDb::Open(path_);
    ASSERT_TRUE(db);
    ASSERT_OK(db->Exec("INSERT INTO predictions(machine_id, window_start_ms, model_id, failure_probability_7d)"
                       " VALUES('M1', " + std::to_string(kT0) + ", 1, 0.1), ('M1', " +
                       std::to_string(kT0 + 30'000) + ", 1, 0.2);"
                       "INSERT INTO latest_predictions(machine_id, window_start_ms, model_id, failure_probability_7d,"
                       " anomaly_score) VALUES('M1', " + std::to_string(kT0 + 30'000) + ", 1, 0.2, 0.5);"));
  }
  const std::string rebuilt = data_paths::RebuildDatabase(tmp_.path());
  {
    Result<std::unique_ptr<FeatureStore>> s = FeatureStore::Open(rebuilt, config_);
    ASSERT_TRUE(s);
    ASSERT_OK((*s)->UpsertRow("M1", Row(kT0, 9.0, 0)));  // ...rebuilt as one 60 s window
  }
  Result<Db> reader = Db::Open(path_, OpenMode::kReadOnly);
  ASSERT_TRUE(reader);
  auto count = [](Db& db, const std::string& table) {
    Result<Stmt> q = db.Prepare("SELECT count(*) FROM " + table);
    EXPECT_TRUE(q);
    if (!q) return int64_t{-1};
    EXPECT_TRUE(*q->Step());
    const int64_t n = q->Int(0);
    q->Reset();
    return n;
  };
  ASSERT_OK(reader->Exec("BEGIN"));
  ASSERT_EQ(count(*reader, "features"), 2);  // the read transaction now holds its snapshot

  ASSERT_OK(CarryOverTables(path_, rebuilt));
  const auto t = std::chrono::steady_clock::now();
  ASSERT_OK(ReplaceDatabase(rebuilt, path_));
  EXPECT_LT(std::chrono::steady_clock::now() - t, std::chrono::seconds(kBusyTimeoutMs / 2000))
      << "the swap waited for the reader";
  EXPECT_FALSE(std::filesystem::exists(rebuilt));

  EXPECT_EQ(count(*reader, "features"), 2);  // still its snapshot
  ASSERT_OK(reader->Exec("COMMIT"));
  EXPECT_EQ(count(*reader, "features"), 1);  // the rebuilt database
  std::vector<FeatureRow> rows;
  {
    auto s = OpenStore();
    ASSERT_TRUE(s);
    ASSERT_OK(s->Rows("M1", kT0, kT0 + 60'000, &rows));
  }
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].sensor_values[0], 9.0);
  Result<Stmt> q = reader->Prepare("SELECT window_start_ms FROM predictions UNION ALL SELECT -1 FROM latest_predictions");
  ASSERT_TRUE(q);
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Int(0), kT0);  // the prediction of the window that still exists
  EXPECT_FALSE(*q->Step());   // the other one, and the latest one pointing at it, are gone
}

TEST_F(StoreTest, StmtReadsNullAsNulloptOrNanAndTransactionsRollBackUnlessCommitted) {
  Result<Db> db = Db::Open(path_, OpenMode::kProcessor);
  ASSERT_TRUE(db);
  ASSERT_OK(db->Exec("CREATE TABLE t(v REAL)"));
  {
    Result<Transaction> txn = Transaction::Begin(*db);
    ASSERT_TRUE(txn);
    ASSERT_OK(db->Exec("INSERT INTO t VALUES(NULL)"));
  }  // not committed
  Result<Stmt> count = db->Prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(count);
  ASSERT_TRUE(*count->Step());
  EXPECT_EQ(count->Int(0), 0);
  count->Reset();
  {
    Result<Transaction> txn = Transaction::Begin(*db);
    ASSERT_TRUE(txn);
    ASSERT_OK(db->Exec("INSERT INTO t VALUES(NULL), (2.5)"));
    ASSERT_OK(txn->Commit());
  }
  Result<Stmt> st = db->Prepare("SELECT v FROM t ORDER BY v IS NOT NULL");
  ASSERT_TRUE(st);
  ASSERT_TRUE(*st->Step());
  EXPECT_EQ(st->OptDouble(0), std::nullopt);
  EXPECT_TRUE(std::isnan(st->FloatOrNaN(0)));
  EXPECT_EQ(st->TypeOf(0), Stmt::Type::kNull);
  ASSERT_TRUE(*st->Step());
  EXPECT_EQ(st->OptDouble(0), 2.5);
  EXPECT_EQ(st->FloatOrNaN(0), 2.5f);
  EXPECT_FALSE(*st->Step());
  EXPECT_EQ(Db::Open(tmp_.path() + "/none.db", OpenMode::kReadOnly).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(Quoted("it's"), "'it''s'");
}

}  // namespace
}  // namespace vigil::store
