#include "common/csv.h"

namespace vigil::csv {
namespace {
constexpr std::string_view kBom = "\xEF\xBB\xBF";
}

int Reader::Get() {
  if (pending_pos_ < pending_.size()) return static_cast<unsigned char>(pending_[pending_pos_++]);
  int c;
  if (f_) {
    c = std::getc(f_);
  } else {
    c = static_cast<size_t>(bytes_) < text_.size() ? static_cast<unsigned char>(text_[bytes_]) : EOF;
  }
  if (c != EOF) ++bytes_;
  return c;
}

bool Reader::Next(std::vector<std::string>* fields, int64_t* line) {
  fields->clear();
  int c = Get();
  if (!started_) {
    started_ = true;
    // A BOM (Excel, PowerShell) is not part of the first field; bytes that only begin
    // like one are read again as data.
    size_t matched = 0;
    while (matched < kBom.size() && c == static_cast<unsigned char>(kBom[matched])) {
      ++matched;
      c = Get();
    }
    if (matched > 0 && matched < kBom.size()) {
      pending_.assign(kBom.substr(0, matched));
      if (c != EOF) pending_.push_back(static_cast<char>(c));
      c = Get();
    }
  }
  while (c == '\n' || c == '\r') {  // skip blank lines
    if (c == '\n') ++line_;
    c = Get();
  }
  if (c == EOF) return false;
  *line = line_;
  std::string field;
  bool quoted = false;
  for (;; c = Get()) {
    if (quoted) {
      if (c == EOF) break;
      if (c == '"') {
        int n = Get();
        if (n == '"') {
          field.push_back('"');
          continue;
        }
        quoted = false;
        c = n;
      } else {
        if (c == '\n') ++line_;
        field.push_back(static_cast<char>(c));
        continue;
      }
    }
    if (c == EOF || c == '\n') {
      if (c == '\n') ++line_;
      fields->push_back(std::move(field));
      return true;
    }
    if (c == ',') {
      fields->push_back(std::move(field));
      field.clear();
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c != '\r') {
      field.push_back(static_cast<char>(c));
    }
  }
  fields->push_back(std::move(field));
  return true;
}

void AppendField(std::string_view field, std::string* out, bool only_field) {
  const bool quote = field.find_first_of(",\"\r\n") != std::string_view::npos || (only_field && field.empty()) ||
                     field.starts_with(kBom);
  if (!quote) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (char ch : field) {
    if (ch == '"') out->push_back('"');
    out->push_back(ch);
  }
  out->push_back('"');
}

void AppendRecord(const std::vector<std::string>& fields, std::string* out) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out->push_back(',');
    AppendField(fields[i], out, fields.size() == 1);
  }
  out->push_back('\n');
}

}  // namespace vigil::csv
