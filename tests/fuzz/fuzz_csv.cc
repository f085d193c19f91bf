// The one CSV reader and writer (import, predict, export). Properties: the streaming
// (FILE) and in-memory readers agree; record line numbers increase; what the writer
// writes of the records reads back as the same records (so predict's output, the input
// plus two columns, keeps every input cell).
#include <cstdio>
#include <vector>

#include "common/csv.h"
#include "fuzz_check.h"

using namespace vigil;
using Rows = std::vector<std::vector<std::string>>;

namespace {
Rows ReadAll(csv::Reader& r, std::vector<int64_t>* lines) {
  Rows rows;
  std::vector<std::string> row;
  int64_t line = 0;
  while (r.Next(&row, &line)) {
    FUZZ_CHECK(!row.empty());
    rows.push_back(row);
    lines->push_back(line);
  }
  return rows;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  csv::Reader mem(text);
  std::vector<int64_t> lines;
  const Rows rows = ReadAll(mem, &lines);
  FUZZ_CHECK(mem.bytes_read() == static_cast<int64_t>(size));
  for (size_t i = 0; i < lines.size(); ++i) FUZZ_CHECK(lines[i] >= 1 && (i == 0 || lines[i] > lines[i - 1]));
  if (size > 0) {
    std::FILE* f = fmemopen(text.data(), text.size(), "r");
    FUZZ_CHECK(f != nullptr);
    csv::Reader file(f);
    std::vector<int64_t> file_lines;
    FUZZ_CHECK(ReadAll(file, &file_lines) == rows);
    FUZZ_CHECK(file_lines == lines);
    std::fclose(f);
  }
  std::string written;
  for (const auto& r : rows) csv::AppendRecord(r, &written);
  csv::Reader back(written);
  std::vector<int64_t> back_lines;
  const Rows again = ReadAll(back, &back_lines);
  FUZZ_CHECK(again == rows, "%zu records written, %zu read back:\n%s", rows.size(), again.size(), written.c_str());
  // Predict's output: each record plus two cells.
  std::string scored;
  for (auto r : rows) {
    r.push_back("0.5");
    r.push_back("7");
    csv::AppendRecord(r, &scored);
  }
  csv::Reader scored_reader(scored);
  std::vector<int64_t> scored_lines;
  const Rows scored_rows = ReadAll(scored_reader, &scored_lines);
  FUZZ_CHECK(scored_rows.size() == rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    FUZZ_CHECK(scored_rows[i].size() == rows[i].size() + 2);
    FUZZ_CHECK(std::equal(rows[i].begin(), rows[i].end(), scored_rows[i].begin()));
  }
  return 0;
}
