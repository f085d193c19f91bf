// The processor against real lake files and a real SQLite file: labels at the horizon's
// edges, dedup, order independence over random lakes split into random batches, and
// crashes at every fault point.
#include "process/batch.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>

#include "common/dir_lock.h"
#include "common/timestamp.h"
#include "lake/archive.h"
#include "lake/line_format.h"
#include "lake/paths.h"
#include "test_util.h"

namespace vigil::process {
namespace {

using vigil::testing::TempDir;
using vigil::testing::WriteFileOrDie;

constexpr int64_t kT0 = 1760486400000;  // 2025-10-15T00:00:00Z
constexpr int64_t kHour = 3'600'000, kDay = 24 * kHour;

struct Msg {
  std::string machine, kind;  // kind: sensor name or "failure"
  int64_t ts_ms;
  double value = 0;
  int64_t received_ms = 0;
};

std::string Line(const Msg& m) {
  std::string payload = R"({"machine_id":")" + m.machine + R"(","timestamp_utc":")" + FormatTimestampMs(m.ts_ms) + "\",";
  std::string topic = "industrial/machine/" + m.machine;
  if (m.kind == "failure") {
    payload += R"("codigo_evento":"FALHA_X"})";
    topic += "/event/failure";
  } else {
    char v[40];
    std::snprintf(v, sizeof v, "%.17g", m.value);
    payload += "\"" + std::string(m.kind == "vibration" ? "vibration_rms" : "temperature_celsius") + "\":" + v + "}";
    topic += "/telemetry/" + m.kind;
  }
  std::string out;
  lake::AppendRawLine(m.received_ms ? m.received_ms : m.ts_ms + 500, topic, payload, &out);
  return out;
}

class BatchTest : public ::testing::Test {
 protected:
  Config MakeConfig(const std::string& dir) {
    Config c;
    c.data_dir = dir;
    c.lake.fsync = FsyncPolicy::kNever;
    c.processing.label_horizon_ms = 7 * kDay;
    return c;
  }
  // Writes one published segment holding msgs (any partitions: the processor does not
  // care, but keep them realistic: one file per date/machine/kind).
  void WriteSegments(const std::string& dir, const std::vector<Msg>& msgs) {
    std::map<std::string, std::string> files;
    for (const Msg& m : msgs) {
      std::string path = dir + "/lake/" + lake::RawPartition(FormatDate(m.ts_ms), m.machine) + "/" +
                         lake::SegmentFileName(m.kind, kT0, ++segment_counter_);
      // group by partition+kind within this call
      std::string key = lake::RawPartition(FormatDate(m.ts_ms), m.machine) + "/" + m.kind;
      if (!paths_.count(key)) paths_[key] = path;
      files[paths_[key]] += Line(m);
    }
    for (auto& [p, text] : files) WriteFileOrDie(p, text);
    paths_.clear();
  }
  std::vector<std::string> Dump(const Config& c) {
    auto db = store::FeatureStore::Open(c.data_dir + "/vigil.db", c);
    EXPECT_TRUE(db.has_value()) << (db ? "" : db.error().message());
    std::vector<std::string> rows;
    EXPECT_TRUE((*db)->DumpFeatures(&rows).ok());
    // label_counts, kept by every write, holds what the rows say (in every test here).
    std::map<std::string, store::LabelCounts> want, got;
    for (const std::string& r : rows) {
      const std::string label = r.substr(r.rfind('|') + 1);
      want[r.substr(0, r.find('|'))].Add(label == "NULL" ? std::nullopt : std::optional<int>(std::stoi(label)), 1);
    }
    EXPECT_TRUE((*db)->ReadLabelCounts(&got).ok());
    std::erase_if(got, [](const auto& kv) { return kv.second == store::LabelCounts{}; });
    EXPECT_EQ(got.size(), want.size()) << "machines in label_counts";
    for (const auto& [m, n] : want) {
      EXPECT_EQ(got[m], n) << m << ": label_counts " << got[m].ones << "/" << got[m].zeros << "/" << got[m].nulls
                           << ", rows " << n.ones << "/" << n.zeros << "/" << n.nulls;
    }
    return rows;
  }
  std::optional<int> Label(const Config& c, const std::string& machine, int64_t ws) {
    for (const std::string& r : Dump(c)) {
      if (r.rfind(machine + "|" + std::to_string(ws) + "|", 0) == 0) {
        std::string last = r.substr(r.rfind('|') + 1);
        if (last == "NULL") return std::nullopt;
        return std::stoi(last);
      }
    }
    ADD_FAILURE() << "no row " << machine << " " << ws;
    return std::nullopt;
  }
  void Process(const Config& c) {
    Processor p(c, clock_, lake::PosixFileSystem::Instance());
    auto r = p.RunPending();
    ASSERT_TRUE(r.has_value()) << r.error().message();
  }
  // The raw segments under c's lake, as consumed_segments names them, ordered.
  std::vector<std::string> RawSegments(const Config& c) {
    std::vector<std::string> out;
    for (const std::string& f : vigil::testing::ListFiles(c.data_dir + "/lake/raw")) out.push_back("raw/" + f);
    std::sort(out.begin(), out.end());
    return out;
  }
  // consumed_segments' paths, ordered.
  std::vector<std::string> ConsumedPaths(const Config& c) {
    std::vector<std::string> out;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((c.data_dir + "/vigil.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT path FROM consumed_segments ORDER BY path", -1, &st, nullptr), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }
  // The features of c's configuration over a fresh data dir: lake, then more, in one run.
  std::vector<std::string> FreshDump(Config c, const std::vector<Msg>& lake, const std::vector<Msg>& more) {
    c.data_dir = tmp_.path() + "/fresh";
    WriteSegments(c.data_dir, lake);
    WriteSegments(c.data_dir, more);
    Process(c);
    return Dump(c);
  }

  TempDir tmp_;
  FakeClock clock_{kT0 + 60 * kDay};
  uint64_t segment_counter_ = 0;
  std::map<std::string, std::string> paths_;
};

TEST_F(BatchTest, LabelsAtTheHorizonEdges) {
  Config c = MakeConfig(tmp_.path());
  const int64_t t = kT0;
  WriteSegments(c.data_dir, {
      {"A", "vibration", t, 1.0},             // row t: failure exactly at t + 7d -> 1
      {"A", "failure", t + 7 * kDay, 0},
      {"B", "vibration", t, 1.0},             // row t: failure exactly at t -> not counted
      {"B", "failure", t, 0},
      {"B", "vibration", t + 7 * kDay, 2.0},  // watermark exactly t + 7d -> 0
      {"C", "vibration", t, 1.0},             // watermark t + 7d - 1 ms -> NULL
      {"C", "vibration", t + 7 * kDay - 1, 1.0},
  });
  Process(c);
  EXPECT_EQ(Label(c, "A", t), 1);
  EXPECT_EQ(Label(c, "B", t), 0);
  EXPECT_EQ(Label(c, "C", t), std::nullopt);
  // The watermark advances later: C's row becomes 0, never before.
  WriteSegments(c.data_dir, {{"C", "temperature", t + 7 * kDay, 50.0}});
  Process(c);
  EXPECT_EQ(Label(c, "C", t), 0);
}

TEST_F(BatchTest, DuplicatesFirstReceivedWinsAcrossBatches) {
  Config c = MakeConfig(tmp_.path());
  WriteSegments(c.data_dir, {{"A", "vibration", kT0, 5.0, kT0 + 2000}});
  Process(c);
  WriteSegments(c.data_dir, {{"A", "vibration", kT0, 9.0, kT0 + 1000}});  // received earlier
  Process(c);
  WriteSegments(c.data_dir, {{"A", "vibration", kT0, 7.0, kT0 + 3000}});  // received later
  Process(c);
  std::vector<std::string> rows = Dump(c);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].substr(0, rows[0].find('|', rows[0].find('|') + 1) + 2), "A|" + std::to_string(kT0) + "|9");
}

// Two copies received in the same millisecond: the winner must not depend on where they
// lie (raw/ or archive/, a compacted file) nor on the batches: here one copy is archived
// and the other still raw when `reprocess --all` runs, against a fresh run of both.
TEST_F(BatchTest, SameMillisecondCopiesWinTheSameUnderReprocessAsInAFreshRun) {
  const int64_t received = kT0 + 5000;
  Config c = MakeConfig(tmp_.path() + "/a");
  WriteSegments(c.data_dir, {{"A", "vibration", kT0, 9.0, received}});
  Process(c);  // archived
  WriteSegments(c.data_dir, {{"A", "vibration", kT0, 7.0, received}});  // still in raw/
  {
    Processor p(c, clock_, lake::PosixFileSystem::Instance());
    ASSERT_TRUE(p.Reprocess({}).has_value());
  }
  Config fresh = MakeConfig(tmp_.path() + "/fresh");
  WriteSegments(fresh.data_dir, {{"A", "vibration", kT0, 7.0, received}, {"A", "vibration", kT0, 9.0, received}});
  Process(fresh);
  ASSERT_EQ(Dump(fresh).size(), 1u);
  EXPECT_EQ(Dump(c), Dump(fresh));
  EXPECT_EQ(Dump(fresh)[0].rfind("A|" + std::to_string(kT0) + "|7", 0), 0u) << Dump(fresh)[0];  // the smaller value
}

TEST_F(BatchTest, WindowMeanAndSegmentsArchived) {
  Config c = MakeConfig(tmp_.path());
  WriteSegments(c.data_dir, {{"A", "vibration", kT0 + 100, 1.0}, {"A", "vibration", kT0 + 900, 2.0},
                             {"A", "temperature", kT0 + 500, 70.0}, {"A", "vibration", kT0 + 1000, 4.0}});
  Process(c);
  std::vector<std::string> rows = Dump(c);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].rfind("A|" + std::to_string(kT0) + "|1.5|70|", 0), 0u) << rows[0];
  EXPECT_TRUE(vigil::testing::ListFiles(c.data_dir + "/lake/raw").empty());
  // The partition's two segments (vibration, temperature): too few to compact, moved as they are.
  std::vector<std::string> archived = vigil::testing::ListFiles(c.data_dir + "/lake/archive");
  ASSERT_EQ(archived.size(), 2u);
  for (const std::string& a : archived) EXPECT_FALSE(a.ends_with(".all.jsonl")) << a;
  EXPECT_EQ(vigil::testing::ReadAllLines(c.data_dir + "/lake/archive").size(), 4u);
  EXPECT_TRUE(vigil::testing::ListFiles(c.data_dir + "/lake/.trash").empty());
}

TEST_F(BatchTest, ManySegmentsOfAPartitionAreArchivedAsOneFile) {
  Config c = MakeConfig(tmp_.path());
  for (size_t i = 0; i <= lake::kCompactAbove; ++i) {  // a segment per call
    WriteSegments(c.data_dir, {{"A", i % 2 ? "vibration" : "temperature", kT0 + 1000 * static_cast<int64_t>(i), 1.0}});
  }
  Process(c);
  std::vector<std::string> archived = vigil::testing::ListFiles(c.data_dir + "/lake/archive");
  ASSERT_EQ(archived.size(), 1u);
  EXPECT_TRUE(archived[0].ends_with(".all.jsonl")) << archived[0];
  EXPECT_EQ(vigil::testing::ReadAllLines(c.data_dir + "/lake/archive").size(), lake::kCompactAbove + 1);
  // The sources wait in the trash; the next run deletes them.
  EXPECT_EQ(vigil::testing::ListFiles(c.data_dir + "/lake/.trash").size(), lake::kCompactAbove + 1);
  Process(c);
  EXPECT_TRUE(vigil::testing::ListFiles(c.data_dir + "/lake/.trash").empty());
  EXPECT_EQ(vigil::testing::ReadAllLines(c.data_dir + "/lake/archive").size(), lake::kCompactAbove + 1);
}

// A run's last commit stays in the WAL (synced, so nothing is lost); the next run's first
// checkpoint copies it into the database file, beside that run's parse.
TEST_F(BatchTest, ARunsLastCommitWaitsInTheWalForTheNextRunsCheckpoint) {
  Config c = MakeConfig(tmp_.path());
  const std::string db = c.data_dir + "/vigil.db";
  // The rows in the database file alone, as a copy without its WAL reads it.
  auto rows_in_file = [&] {
    const std::string copy = tmp_.path() + "/copy.db";
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(copy + suffix);
    std::filesystem::copy_file(db, copy);
    sqlite3* raw = nullptr;
    int64_t n = -1;
    if (sqlite3_open(copy.c_str(), &raw) == SQLITE_OK) {
      sqlite3_exec(raw, "SELECT count(*) FROM features", [](void* out, int, char** v, char**) {
        *static_cast<int64_t*>(out) = std::stoll(v[0]);
        return 0;
      }, &n, nullptr);
    }
    sqlite3_close(raw);
    return n;
  };
  WriteSegments(c.data_dir, {{"A", "vibration", kT0 + 100, 1.0}});
  Process(c);
  ASSERT_TRUE(std::filesystem::exists(db + "-wal"));
  EXPECT_EQ(rows_in_file(), 0);
  EXPECT_EQ(Dump(c).size(), 1u);
  WriteSegments(c.data_dir, {{"B", "vibration", kT0 + 100, 2.0}});
  Process(c);
  EXPECT_EQ(rows_in_file(), 1);  // the first run's row, copied by the second run
  EXPECT_EQ(Dump(c).size(), 2u);
  // A run of two batches: the first one's commit is copied before the second begins.
  WriteSegments(c.data_dir, {{"C", "vibration", kT0 + 100, 3.0}});
  WriteSegments(c.data_dir, {{"D", "vibration", kT0 + 100, 4.0}});
  Processor p(c, clock_, lake::PosixFileSystem::Instance());
  p.batch_max_bytes = 1;  // one segment a batch
  auto r = p.RunPending();
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->batches, 2);
  EXPECT_EQ(rows_in_file(), 3);  // A, B and the first batch's; the last batch's waits
  EXPECT_EQ(Dump(c).size(), 4u);
}

TEST_F(BatchTest, BadLinesAreQuarantinedAndTheBatchGoesOn) {
  Config c = MakeConfig(tmp_.path());
  std::string p = c.data_dir + "/lake/raw/date=2025-10-15/machine_id=A/vibration-1-000001.jsonl";
  WriteFileOrDie(p, Line({"A", "vibration", kT0, 1.0}) + "{\"truncated\n" + Line({"A", "vibration", kT0 + 1000, 2.0}));
  Processor proc(c, clock_, lake::PosixFileSystem::Instance());
  auto r = proc.RunPending();
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->totals.bad_lines, 1);
  EXPECT_EQ(r->totals.readings, 2);
  EXPECT_EQ(vigil::testing::ReadAllLines(c.data_dir + "/lake", "quarantine/").size(), 1u);
}

// A random lake: several machines, gaps of hours, bursts, duplicates, late lines, failures.
std::vector<Msg> RandomLake(std::mt19937_64& rng) {
  std::vector<Msg> msgs;
  for (const char* m : {"A", "B", "C"}) {
    int64_t t = kT0;
    for (int i = 0; i < 400; ++i) {
      t += (rng() % 20 == 0) ? kHour * (1 + rng() % 5) : 100 + rng() % 2500;  // bursts and gaps
      const char* kind = rng() % 3 ? "vibration" : "temperature";
      double v = kind[0] == 'v' ? std::uniform_real_distribution<double>(0, 10)(rng) : 60 + std::uniform_real_distribution<double>(0, 20)(rng);
      msgs.push_back({m, kind, t, v, t + static_cast<int64_t>(rng() % 5000)});
      if (rng() % 10 == 0) msgs.push_back({m, kind, t, v + 1, t + 10'000 + static_cast<int64_t>(rng() % 5000)});  // duplicate
      if (rng() % 150 == 0) msgs.push_back({m, "failure", t + 1000, 0, t + 1500});
    }
  }
  return msgs;
}

TEST_F(BatchTest, OrderIndependenceOneBatchVersusRandomSplits) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<Msg> lake = RandomLake(rng);
    Config c1 = MakeConfig(tmp_.path() + "/one-" + std::to_string(seed));
    // A short horizon and features so that the random lake exercises every edge.
    for (Config* c : {&c1}) {
      c->processing.label_horizon_ms = 6 * kHour;
      c->features = {{"v_mean_2h", "vibration", Aggregate::kMean, 2 * kHour},
                     {"v_std_2h", "vibration", Aggregate::kStd, 2 * kHour},
                     {"v_max_30m", "vibration", Aggregate::kMax, 30 * 60'000},
                     {"t_min_1h", "temperature", Aggregate::kMin, kHour},
                     {"t_last_1h", "temperature", Aggregate::kLast, kHour},
                     {"t_slope_3h", "temperature", Aggregate::kSlope, 3 * kHour},
                     {"v_count_10s", "vibration", Aggregate::kCount, 10'000}};
    }
    WriteSegments(c1.data_dir, lake);
    Process(c1);
    const std::vector<std::string> once = Dump(c1);
    ASSERT_GT(once.size(), 500u);

    Config c2 = c1;
    c2.data_dir = tmp_.path() + "/split-" + std::to_string(seed);
    std::shuffle(lake.begin(), lake.end(), rng);
    for (size_t i = 0; i < lake.size();) {
      size_t n = 1 + rng() % 300;
      std::vector<Msg> part(lake.begin() + i, lake.begin() + std::min(lake.size(), i + n));
      WriteSegments(c2.data_dir, part);
      if (rng() % 2) Process(c2);
      i += n;
    }
    Process(c2);
    EXPECT_EQ(Dump(c2), once) << "seed " << seed;
  }
}

// Readings arriving in time order, a small batch at a time (a daemon's, a historian's
// export), are appended to their chunk as parts; copies of old readings and late ones in
// between merge the parts again, and a chunk that reaches kMaxChunkParts is merged too.
// Whatever the parts, the tables and the dedup counts equal those of one batch.
TEST_F(BatchTest, InOrderBatchesAppendChunkPartsAndEqualOneBatch) {
  std::vector<std::vector<Msg>> batches;
  std::mt19937_64 rng(7);
  int64_t t = kT0 + 1234;
  for (int b = 0; b < 90; ++b) {
    std::vector<Msg> batch;
    for (int i = 0; i < 25; ++i, t += 1000) {
      batch.push_back({"A", "vibration", t, 1.0 + static_cast<double>(rng() % 100) / 10, t + 300});
      if (i % 5 == 0) batch.push_back({"A", "temperature", t + 7, 60.0 + static_cast<double>(rng() % 50) / 10, t + 400});
    }
    if (b % 7 == 3) batch.push_back({"A", "vibration", t - 40'000, 99.0, t + 500});   // a copy of an old reading: loses
    if (b % 11 == 5) batch.push_back({"A", "vibration", t - 60'500, 42.0, t + 600});  // a late reading: new
    if (b % 13 == 12) batch.push_back({"A", "vibration", t - 1000, 3.5, t - 1000 + 100});  // a copy received earlier: wins
    batches.push_back(batch);
  }
  Config one = MakeConfig(tmp_.path() + "/one");
  Config many = MakeConfig(tmp_.path() + "/many");
  for (const auto& b : batches) WriteSegments(one.data_dir, b);
  Process(one);
  for (const auto& b : batches) {
    WriteSegments(many.data_dir, b);
    Process(many);
  }
  const std::vector<std::string> rows = Dump(one);
  ASSERT_GT(rows.size(), 2000u);
  EXPECT_EQ(Dump(many), rows);

  auto query = [](const Config& c, const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((c.data_dir + "/vigil.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    std::string out;
    while (sqlite3_step(st) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(st); ++i) out += std::to_string(sqlite3_column_int64(st, i)) + " ";
      out += "\n";
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  };
  const std::string counts = "SELECT sum(readings), sum(duplicates) FROM batches";
  EXPECT_EQ(query(many, counts), query(one, counts));
  // The parts were there: more chunk rows than chunks, none past the bound.
  const std::string rows_per_chunk =
      "SELECT count(*) FROM reading_chunks GROUP BY sensor, chunk_ms - chunk_ms % 600000 ORDER BY 1 DESC LIMIT 1";
  EXPECT_EQ(query(one, rows_per_chunk), "1 \n");
  const int most = std::stoi(query(many, rows_per_chunk));
  EXPECT_GT(most, 1);
  EXPECT_LE(most, store::kMaxChunkParts);
  // And each chunk reads back as the one batch's.
  auto chunks = [&](const Config& c) {
    auto db = store::FeatureStore::Open(c.data_dir + "/vigil.db", c);
    EXPECT_TRUE(db.has_value());
    std::vector<std::string> out;
    for (int sensor = 0; sensor < 2; ++sensor) {
      for (int64_t chunk = kT0; chunk < t + 600'000; chunk += 600'000) {
        std::vector<store::StoredReading> rs;
        EXPECT_TRUE((*db)->ReadChunk("A", sensor, chunk, &rs).ok());
        for (const auto& r : rs) out.push_back(std::to_string(r.ts_ms) + " " + std::to_string(r.value) + " " + std::to_string(r.received_ms));
      }
    }
    return out;
  };
  EXPECT_EQ(chunks(many), chunks(one));
}

TEST_F(BatchTest, CrashAtEveryPointThenRerunEqualsUninterrupted) {
  std::mt19937_64 rng(99);
  std::vector<Msg> lake = RandomLake(rng);
  // Small segments, so that the batches below hold partitions of few of them (moved) and of
  // many (compacted).
  auto write_lake = [&](const std::string& dir) {
    for (size_t i = 0; i < lake.size(); i += 40) {
      WriteSegments(dir, std::vector<Msg>(lake.begin() + i, lake.begin() + std::min(lake.size(), i + 40)));
    }
  };
  Config ref = MakeConfig(tmp_.path() + "/ref");
  write_lake(ref.data_dir);
  {
    Processor p(ref, clock_, lake::PosixFileSystem::Instance());
    p.batch_max_bytes = 20'000;
    ASSERT_TRUE(p.RunPending().has_value());
  }
  const std::vector<std::string> want = Dump(ref);
  const std::vector<std::string> ref_files = vigil::testing::ListFiles(ref.data_dir + "/lake/archive");
  ASSERT_TRUE(std::any_of(ref_files.begin(), ref_files.end(), [](const std::string& f) { return f.ends_with(".all.jsonl"); }));
  ASSERT_TRUE(std::any_of(ref_files.begin(), ref_files.end(), [](const std::string& f) { return !f.ends_with(".all.jsonl"); }));
  for (const char* point : {"parsed", "before_commit", "after_commit", "moved_one"}) {
    for (int nth : {1, 2}) {
      Config c = MakeConfig(tmp_.path() + "/crash-" + point + std::to_string(nth));
      write_lake(c.data_dir);
      {
        Processor p(c, clock_, lake::PosixFileSystem::Instance());
        p.batch_max_bytes = 20'000;  // several batches, so that crashes land between them
        int hits = 0;
        p.fault_hook = [&](std::string_view at) {
          return at == point && ++hits == nth ? Status::Internal("injected crash") : Status::Ok();
        };
        EXPECT_FALSE(p.RunPending().has_value()) << point;
      }
      Process(c);
      EXPECT_EQ(Dump(c), want) << point << " #" << nth;
      EXPECT_TRUE(vigil::testing::ListFiles(c.data_dir + "/lake/raw").empty()) << point;
      // Every line archived once: none lost, none twice (a compacted file and its source).
      std::vector<std::string> archived = vigil::testing::ReadAllLines(c.data_dir + "/lake/archive");
      std::vector<std::string> ref_archived = vigil::testing::ReadAllLines(ref.data_dir + "/lake/archive");
      std::sort(archived.begin(), archived.end());
      std::sort(ref_archived.begin(), ref_archived.end());
      EXPECT_EQ(archived, ref_archived) << point << " #" << nth;
      EXPECT_TRUE(vigil::testing::ListFiles(c.data_dir + "/lake/.staging").empty()) << point;
    }
  }
}

TEST_F(BatchTest, ReprocessAllAppliesANewConfigurationLikeAFreshRun) {
  std::mt19937_64 rng(5);
  std::vector<Msg> lake = RandomLake(rng);
  Config c = MakeConfig(tmp_.path() + "/a");
  WriteSegments(c.data_dir, lake);
  Process(c);  // everything archived
  WriteSegments(c.data_dir, {{"A", "vibration", kT0 + 30 * kDay, 3.0}});  // and some raw data
  c.features[0].duration_ms = kHour;  // a schema change
  Processor p(c, clock_, lake::PosixFileSystem::Instance());
  ASSERT_FALSE(p.RunPending().has_value());  // refused as it is
  ASSERT_TRUE(p.Reprocess({}).has_value());
  Process(c);  // now accepted; only archives the raw segment the rebuild consumed
  EXPECT_TRUE(vigil::testing::ListFiles(c.data_dir + "/lake/raw").empty());
  EXPECT_EQ(Dump(c), FreshDump(c, lake, {{"A", "vibration", kT0 + 30 * kDay, 3.0}}));
}

// vigil.db deleted alone: the WAL its last run left must not be replayed over the rebuild.
TEST_F(BatchTest, ReprocessAllIntoAMissingDatabaseIgnoresALeftOverWal) {
  std::mt19937_64 rng(11);
  std::vector<Msg> lake = RandomLake(rng);
  Config c = MakeConfig(tmp_.path() + "/a");
  WriteSegments(c.data_dir, lake);
  Process(c);
  ASSERT_TRUE(std::filesystem::exists(c.data_dir + "/vigil.db-wal"));
  std::filesystem::remove(c.data_dir + "/vigil.db");
  WriteSegments(c.data_dir, {{"A", "vibration", kT0 + 30 * kDay, 3.0}});
  Processor p(c, clock_, lake::PosixFileSystem::Instance());
  ASSERT_TRUE(p.Reprocess({}).has_value());
  EXPECT_EQ(Dump(c), FreshDump(c, lake, {{"A", "vibration", kT0 + 30 * kDay, 3.0}}));
}

// A batch takes at most batch_max_files segments, however small they are.
TEST_F(BatchTest, ABatchTakesAtMostBatchMaxFilesSegments) {
  std::mt19937_64 rng(13);
  const std::vector<Msg> lake = RandomLake(rng);
  Config c = MakeConfig(tmp_.path() + "/a");
  WriteSegments(c.data_dir, lake);
  const size_t files = vigil::testing::ListFiles(c.data_dir + "/lake/raw").size();
  ASSERT_GT(files, 6u);
  Processor p(c, clock_, lake::PosixFileSystem::Instance());
  p.batch_max_files = 3;
  auto r = p.RunPending();
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->batches, static_cast<int>((files + 2) / 3));
  EXPECT_EQ(r->totals.segments, static_cast<int64_t>(files));
  EXPECT_EQ(Dump(c), FreshDump(c, lake, {}));
}

// A rebuild in many batches takes each segment once (raw/ and archive/ alike, a date at a
// time) and records only the raw ones as consumed: the archived ones never come back to
// the processor, and months of them would be millions of rows.
TEST_F(BatchTest, ReprocessInManyBatchesTakesEachSegmentOnceAndRecordsOnlyRawOnes) {
  std::mt19937_64 rng(12);
  std::vector<Msg> lake = RandomLake(rng);
  Config c = MakeConfig(tmp_.path() + "/a");
  WriteSegments(c.data_dir, lake);
  Process(c);  // archived
  const std::vector<Msg> late = {{"A", "vibration", kT0 + 30 * kDay, 3.0}, {"B", "temperature", kT0 - kDay, 50.0}};
  WriteSegments(c.data_dir, late);  // still in raw/, one of them on a date before the rest
  const size_t raw = vigil::testing::ListFiles(c.data_dir + "/lake/raw").size();
  const size_t archived = vigil::testing::ListFiles(c.data_dir + "/lake/archive").size();
  ASSERT_GT(raw, 0u);
  ASSERT_GT(archived, 4u);
  Processor p(c, clock_, lake::PosixFileSystem::Instance());
  p.batch_max_bytes = 1;  // one segment a batch
  Result<RunSummary> r = p.Reprocess({});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->batches, static_cast<int>(raw + archived));
  EXPECT_EQ(r->totals.segments, static_cast<int64_t>(raw + archived));
  const std::vector<std::string> consumed = ConsumedPaths(c);
  ASSERT_EQ(consumed.size(), raw);
  for (const std::string& path : consumed) EXPECT_EQ(path.rfind("raw/", 0), 0u) << path;
  Process(c);  // only archives the raw segments
  EXPECT_TRUE(vigil::testing::ListFiles(c.data_dir + "/lake/raw").empty());
  EXPECT_EQ(Dump(c), FreshDump(c, lake, late));
}

// consumed_segments only has to outlive a segment's stay in raw/ (a crash between commit
// and move): a batch forgets the rows of segments that left it, so that the table holds
// the last batches' rows, not every segment of the history. Rows an older vigil left
// behind go the same way; the features are what one run makes.
TEST_F(BatchTest, ABatchForgetsTheConsumedRowsOfSegmentsThatLeftRaw) {
  std::mt19937_64 rng(21);
  const std::vector<Msg> first = RandomLake(rng), second = RandomLake(rng);
  Config c = MakeConfig(tmp_.path() + "/a");
  WriteSegments(c.data_dir, first);
  const std::vector<std::string> first_raw = RawSegments(c);
  Process(c);
  EXPECT_EQ(ConsumedPaths(c), first_raw);  // no batch listed raw/ since they left it
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((c.data_dir + "/vigil.db").c_str(), &db), SQLITE_OK);
    std::string sql = "BEGIN;";
    for (int i = 0; i < 5000; ++i) {  // more than a page of ForgetConsumed
      sql += "INSERT INTO consumed_segments VALUES('raw/date=2025-01-01/machine_id=OLD/vibration-" + std::to_string(i) + ".jsonl', 1);";
    }
    ASSERT_EQ(sqlite3_exec(db, (sql + "COMMIT;").c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  WriteSegments(c.data_dir, second);
  const std::vector<std::string> second_raw = RawSegments(c);
  Process(c);
  EXPECT_EQ(ConsumedPaths(c), second_raw);
  EXPECT_TRUE(vigil::testing::ListFiles(c.data_dir + "/lake/raw").empty());
  EXPECT_EQ(Dump(c), FreshDump(c, first, second));
}

// A segment that a crash left in raw/ after its batch committed keeps its row until it is
// archived, and is archived, not processed again.
TEST_F(BatchTest, AConsumedSegmentLeftInRawKeepsItsRowUntilItIsArchived) {
  std::mt19937_64 rng(22);
  const std::vector<Msg> first = RandomLake(rng), second = RandomLake(rng), third = RandomLake(rng);
  Config c = MakeConfig(tmp_.path() + "/a");
  WriteSegments(c.data_dir, first);
  Process(c);
  WriteSegments(c.data_dir, second);
  const std::vector<std::string> second_raw = RawSegments(c);
  {
    Processor p(c, clock_, lake::PosixFileSystem::Instance());
    p.fault_hook = [](std::string_view at) { return at == "after_commit" ? Status::Internal("crash") : Status::Ok(); };
    ASSERT_FALSE(p.RunPending().has_value());
  }
  EXPECT_EQ(ConsumedPaths(c), second_raw);  // the first run's rows are gone, the crashed batch's stay
  EXPECT_EQ(RawSegments(c), second_raw);
  WriteSegments(c.data_dir, third);
  const size_t third_segments = RawSegments(c).size() - second_raw.size();
  Processor p(c, clock_, lake::PosixFileSystem::Instance());
  Result<RunSummary> r = p.RunPending();
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->totals.segments, static_cast<int64_t>(third_segments));  // the crashed batch's were archived, not read again
  for (const std::string& path : ConsumedPaths(c)) {
    EXPECT_EQ(std::find(second_raw.begin(), second_raw.end(), path), second_raw.end()) << path << ": archived, its row stayed";
  }
  EXPECT_TRUE(vigil::testing::ListFiles(c.data_dir + "/lake/raw").empty());
  EXPECT_EQ(Dump(c), FreshDump(c, first, [&] {
              std::vector<Msg> more = second;
              more.insert(more.end(), third.begin(), third.end());
              return more;
            }()));
}

TEST_F(BatchTest, InterruptedReprocessLeavesTheTablesAsTheyWere) {
  std::mt19937_64 rng(6);
  Config c = MakeConfig(tmp_.path());
  WriteSegments(c.data_dir, RandomLake(rng));
  Process(c);
  const std::vector<std::string> before = Dump(c);
  for (const char* point : {"parsed", "before_commit", "rebuilt"}) {
    Processor p(c, clock_, lake::PosixFileSystem::Instance());
    p.fault_hook = [&](std::string_view at) { return at == point ? Status::Internal("crash") : Status::Ok(); };
    EXPECT_FALSE(p.Reprocess({}).has_value()) << point;
    EXPECT_EQ(Dump(c), before) << point;
  }
}

TEST_F(BatchTest, ReprocessOneMachineKeepsTheOthersAndEqualsTheFullResult) {
  std::mt19937_64 rng(8);
  Config c = MakeConfig(tmp_.path());
  WriteSegments(c.data_dir, RandomLake(rng));
  Process(c);
  const std::vector<std::string> before = Dump(c);
  sqlite3* db = nullptr;  // damage machine B's rows: the rebuild must restore them
  ASSERT_EQ(sqlite3_open((c.data_dir + "/vigil.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE features SET vib_mean_5h = -1 WHERE machine_id = 'B'", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  ASSERT_NE(Dump(c), before);
  Processor p(c, clock_, lake::PosixFileSystem::Instance());
  auto r = p.Reprocess({"B"});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_GT(r->totals.readings, 0);
  EXPECT_EQ(Dump(c), before);
}

TEST_F(BatchTest, ChangedFeatureConfigurationIsRefused) {
  Config c = MakeConfig(tmp_.path());
  WriteSegments(c.data_dir, {{"A", "vibration", kT0, 1.0}});
  Process(c);
  c.features[0].duration_ms = kHour;
  Processor p(c, clock_, lake::PosixFileSystem::Instance());
  auto r = p.RunPending();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("another window, horizon, sensor or feature configuration"), std::string::npos);
}

TEST_F(BatchTest, SecondProcessorIsRefused) {
  Config c = MakeConfig(tmp_.path());
  std::filesystem::create_directories(c.data_dir);
  auto lock = DirLock::Acquire(c.data_dir + "/process.lock", "test");
  ASSERT_TRUE(lock.has_value());
  pid_t pid = fork();
  if (pid == 0) {
    Processor p(c, clock_, lake::PosixFileSystem::Instance());
    auto r = p.RunPending();
    _exit(!r.has_value() && r.error().code() == StatusCode::kUnavailable ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace vigil::process
