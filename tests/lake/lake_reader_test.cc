#include "lake/lake_reader.h"

#include <gtest/gtest.h>

#include <simdjson.h>

#include <cstdint>
#include <cstring>

#include "common/timestamp.h"
#include "test_util.h"

namespace vigil::lake {
namespace {

using vigil::testing::TempDir;
using vigil::testing::WriteFileOrDie;

struct Line {
  std::string text;
  int64_t no;
  bool operator==(const Line&) const = default;
};

// Every line of `data` through ForEachLine with pieces of `piece` bytes; checks that each
// one is followed by simdjson's padding of readable bytes (zeros, in this buffer's case,
// or the file's next bytes).
std::vector<Line> Lines(const std::string& data, size_t piece) {
  TempDir tmp;
  const std::string path = tmp.path() + "/seg.jsonl";
  WriteFileOrDie(path, data);
  std::vector<Line> out;
  Status st = ForEachLine(PosixFileSystem::Instance(), path, [&](std::string_view line, int64_t no) {
    volatile char sink = 0;
    for (size_t i = 0; i < simdjson::SIMDJSON_PADDING; ++i) sink = sink ^ line.data()[line.size() + i];
    out.push_back({std::string(line), no});
    return Status::Ok();
  }, piece);
  EXPECT_TRUE(st.ok()) << st.message();
  return out;
}

TEST(ForEachLineTest, LinesAcrossPiecesComeOutWholeAndNumbered) {
  const std::string data = "first\n\nthird line\nfourth\nlast, no newline";
  const std::vector<Line> want = {{"first", 1}, {"", 2}, {"third line", 3}, {"fourth", 4}, {"last, no newline", 5}};
  for (size_t piece : {size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{6}, size_t{7}, size_t{11}, size_t{64}, data.size(),
                       data.size() + 1, size_t{1} << 20}) {
    EXPECT_EQ(Lines(data, piece), want) << "piece " << piece;
  }
}

TEST(ForEachLineTest, APieceEndingOnANewlineAndAFileEndingOnOne) {
  const std::string data = "abc\ndef\n";
  const std::vector<Line> want = {{"abc", 1}, {"def", 2}};
  for (size_t piece : {size_t{1}, size_t{4}, size_t{8}, size_t{9}}) EXPECT_EQ(Lines(data, piece), want) << "piece " << piece;
}

TEST(ForEachLineTest, ALineLongerThanSeveralPiecesAndAnEmptyFile) {
  const std::string longline(1000, 'x');
  const std::string data = "a\n" + longline + "\nb\n";
  for (size_t piece : {size_t{7}, size_t{64}, size_t{999}, size_t{1000}, size_t{1001}}) {
    EXPECT_EQ(Lines(data, piece), (std::vector<Line>{{"a", 1}, {longline, 2}, {"b", 3}})) << "piece " << piece;
  }
  EXPECT_TRUE(Lines("", 4).empty());
  EXPECT_EQ(Lines("\n", 4), (std::vector<Line>{{"", 1}}));
}

TEST(ForEachLineTest, TheFirstErrorEndsIt) {
  TempDir tmp;
  WriteFileOrDie(tmp.path() + "/s.jsonl", "a\nb\nc\n");
  int calls = 0;
  Status st = ForEachLine(PosixFileSystem::Instance(), tmp.path() + "/s.jsonl", [&](std::string_view line, int64_t) {
    ++calls;
    return line == "b" ? Status::InvalidArgument("stop at b") : Status::Ok();
  }, 1);
  EXPECT_EQ(st.message(), "stop at b");
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(ForEachLine(PosixFileSystem::Instance(), tmp.path() + "/missing.jsonl",
                           [](std::string_view, int64_t) { return Status::Ok(); }).ok());
}

// The paths (relative to the lake) the cursor hands out, at most n of them.
std::vector<std::string> Taken(SegmentCursor& c, const std::string& lake, size_t n = SIZE_MAX) {
  std::vector<std::string> out;
  for (; out.size() < n;) {
    Result<const SegmentFile*> s = c.Peek();
    EXPECT_TRUE(s.has_value());
    if (!s || !*s) break;
    out.push_back((*s)->path.substr(lake.size() + 1));
    c.Take();
  }
  return out;
}

// ListSegments' order: by date, then path (archive/ before raw/ within a date), whatever
// area a date is in; open segments, other files and filtered partitions left out.
TEST(SegmentCursorTest, HandsOutTheSegmentsByDateThenPath) {
  TempDir tmp;
  const std::string lake = tmp.path();
  for (const char* f : {"raw/date=2025-01-02/machine_id=B/2.jsonl", "raw/date=2025-01-02/machine_id=A/1.jsonl",
                        "archive/date=2025-01-02/machine_id=B/0.all.jsonl", "archive/date=2025-01-01/machine_id=A/5.jsonl",
                        "raw/date=2024-12-31/machine_id=C/9.jsonl", "raw/date=2025-01-02/machine_id=A/.3.jsonl.open",
                        "raw/date=2025-01-02/machine_id=A/notes.txt", "archive/date=2025-01-03/machine_id=D/1.jsonl",
                        "archive/bad-dir/machine_id=A/1.jsonl"}) {
    WriteFileOrDie(lake + "/" + f, "x\n");
  }
  const std::vector<std::string> all = {"raw/date=2024-12-31/machine_id=C/9.jsonl", "archive/date=2025-01-01/machine_id=A/5.jsonl",
                                        "archive/date=2025-01-02/machine_id=B/0.all.jsonl", "raw/date=2025-01-02/machine_id=A/1.jsonl",
                                        "raw/date=2025-01-02/machine_id=B/2.jsonl", "archive/date=2025-01-03/machine_id=D/1.jsonl"};
  SegmentCursor every(lake, {});
  EXPECT_EQ(Taken(every, lake), all);
  Result<std::vector<SegmentFile>> listed = ListSegments(lake, {});
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(listed->at(i).path, lake + "/" + all[i]);
  EXPECT_EQ(listed->at(2).date, "2025-01-02");
  EXPECT_EQ(listed->at(2).machine_id, "B");

  LakeFilter some;
  some.archive = false;
  some.machines = {"A", "C"};
  some.from_ms = *ParseDateOrTimestampMs("2025-01-01");
  SegmentCursor filtered(lake, some);
  EXPECT_EQ(Taken(filtered, lake), (std::vector<std::string>{"raw/date=2025-01-02/machine_id=A/1.jsonl"}));
}

// A date is listed when the cursor reaches it: a segment published later in a date still
// ahead is handed out; one in a date already listed waits for the next listing.
TEST(SegmentCursorTest, ListsADateWhenItGetsThere) {
  TempDir tmp;
  const std::string lake = tmp.path();
  WriteFileOrDie(lake + "/raw/date=2025-01-01/machine_id=A/1.jsonl", "x\n");
  WriteFileOrDie(lake + "/raw/date=2025-01-01/machine_id=A/2.jsonl", "x\n");
  WriteFileOrDie(lake + "/archive/date=2025-01-02/machine_id=A/1.jsonl", "x\n");
  SegmentCursor c(lake, {});
  EXPECT_EQ(Taken(c, lake, 1), (std::vector<std::string>{"raw/date=2025-01-01/machine_id=A/1.jsonl"}));
  WriteFileOrDie(lake + "/raw/date=2025-01-01/machine_id=A/3.jsonl", "x\n");
  WriteFileOrDie(lake + "/raw/date=2025-01-02/machine_id=B/1.jsonl", "x\n");
  EXPECT_EQ(Taken(c, lake), (std::vector<std::string>{"raw/date=2025-01-01/machine_id=A/2.jsonl",
                                                      "archive/date=2025-01-02/machine_id=A/1.jsonl",
                                                      "raw/date=2025-01-02/machine_id=B/1.jsonl"}));
}

}  // namespace
}  // namespace vigil::lake
