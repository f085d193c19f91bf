// CSV as every vigil command reads and writes it (import, predict, export): RFC 4180
// records, one reader and one writer so that what vigil writes, vigil, pandas and Python's
// csv module read back unchanged.
//
// Reader: LF or CRLF line ends, a UTF-8 BOM at the start of the input is skipped, quoted
// fields with "" escapes and embedded commas and line breaks, a missing trailing newline,
// blank lines skipped. A '\r' outside quotes is a line-end byte and never part of a field.
// Writer: quotes a field only when it has to (a comma, quote, CR, LF, is empty in a record of
// one field, or starts with a BOM), LF line ends.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::csv {

class Reader {
 public:
  explicit Reader(std::FILE* f) : f_(f) {}         // streams; the caller closes f
  explicit Reader(std::string_view text) : text_(text) {}  // in memory
  // False at end of input. *line receives the record's first physical line (1-based).
  bool Next(std::vector<std::string>* fields, int64_t* line);
  int64_t bytes_read() const { return bytes_; }

 private:
  int Get();
  std::FILE* f_ = nullptr;
  std::string_view text_;
  int64_t line_ = 1;
  int64_t bytes_ = 0;
  bool started_ = false;
  std::string pending_;  // bytes read back again (a partial BOM)
  size_t pending_pos_ = 0;
};

// Appends one field, quoted when needed. only_field: the record has this one field (an
// empty one is then written as "" so that it is not a blank line).
void AppendField(std::string_view field, std::string* out, bool only_field = false);
// Appends the fields joined by commas and a '\n'.
void AppendRecord(const std::vector<std::string>& fields, std::string* out);

}  // namespace vigil::csv
