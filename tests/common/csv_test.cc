#include "common/csv.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace vigil::csv {
namespace {

using Rows = std::vector<std::vector<std::string>>;

Rows ReadAll(std::string_view text, std::vector<int64_t>* lines = nullptr) {
  Reader r(text);
  Rows rows;
  std::vector<std::string> row;
  int64_t line = 0;
  while (r.Next(&row, &line)) {
    rows.push_back(row);
    if (lines) lines->push_back(line);
  }
  return rows;
}

TEST(CsvReaderTest, QuotesEscapesAndEmbeddedNewlines) {
  std::string text = "a,\"b,c\",\"say \"\"hi\"\"\"\r\n\n\"multi\nline\",x\nlast,no-newline";
  std::FILE* f = fmemopen(text.data(), text.size(), "r");
  Reader reader(f);
  std::vector<std::string> row;
  int64_t line = 0;
  ASSERT_TRUE(reader.Next(&row, &line));
  EXPECT_EQ(row, (std::vector<std::string>{"a", "b,c", "say \"hi\""}));
  EXPECT_EQ(line, 1);
  ASSERT_TRUE(reader.Next(&row, &line));
  EXPECT_EQ(row, (std::vector<std::string>{"multi\nline", "x"}));
  EXPECT_EQ(line, 3);
  ASSERT_TRUE(reader.Next(&row, &line));
  EXPECT_EQ(row, (std::vector<std::string>{"last", "no-newline"}));
  EXPECT_EQ(line, 5);
  EXPECT_FALSE(reader.Next(&row, &line));
  std::fclose(f);
}

TEST(CsvReaderTest, CrlfAndLfReadTheSame) {
  EXPECT_EQ(ReadAll("h1,h2\r\n1,2\r\n\"x\r\ny\",3\r\n"), ReadAll("h1,h2\n1,2\n\"x\r\ny\",3\n"));
  EXPECT_EQ(ReadAll("h1,h2\r\n1,2\r\n"), (Rows{{"h1", "h2"}, {"1", "2"}}));
  EXPECT_EQ(ReadAll("h1,h2\r\n1,2"), (Rows{{"h1", "h2"}, {"1", "2"}}));  // no trailing newline
}

// Excel's "CSV UTF-8" starts with a BOM, and may quote the first header cell.
TEST(CsvReaderTest, BomIsSkippedEvenBeforeAQuote) {
  EXPECT_EQ(ReadAll("\xEF\xBB\xBFmachine_id,ts\r\n"), (Rows{{"machine_id", "ts"}}));
  EXPECT_EQ(ReadAll("\xEF\xBB\xBF\"machine_id\",ts\n"), (Rows{{"machine_id", "ts"}}));
  // Only at the start, and only a whole one.
  EXPECT_EQ(ReadAll("a\n\xEF\xBB\xBF" "b\n"), (Rows{{"a"}, {"\xEF\xBB\xBF" "b"}}));
  EXPECT_EQ(ReadAll("\xEF\xBB" "x,y\n"), (Rows{{"\xEF\xBB" "x", "y"}}));
  EXPECT_EQ(ReadAll("\xEF"), (Rows{{"\xEF"}}));
}

TEST(CsvReaderTest, InMemoryAndFileReadersAgree) {
  std::string text = "\xEF\xBB\xBF" "a,\"b\"\"\",c\r\n\r\n,,\n\"q\nq\",x";
  std::FILE* f = fmemopen(text.data(), text.size(), "r");
  Reader reader(f);
  Rows from_file;
  std::vector<std::string> row;
  int64_t line = 0;
  while (reader.Next(&row, &line)) from_file.push_back(row);
  std::fclose(f);
  EXPECT_EQ(from_file, ReadAll(text));
  EXPECT_EQ(from_file, (Rows{{"a", "b\"", "c"}, {"", "", ""}, {"q\nq", "x"}}));
}

TEST(CsvWriterTest, QuotesOnlyWhatNeedsIt) {
  std::string out;
  AppendRecord({"M-1", "a,b", "say \"hi\"", "two\nlines", "cr\r", "", "1.5"}, &out);
  EXPECT_EQ(out, "M-1,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\r\",,1.5\n");
  EXPECT_EQ(ReadAll(out), (Rows{{"M-1", "a,b", "say \"hi\"", "two\nlines", "cr\r", "", "1.5"}}));
}

}  // namespace
}  // namespace vigil::csv
