#include "test_util.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace vigil::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "vigil-test-XXXXXX").string();
  char* p = ::mkdtemp(tmpl.data());
  if (!p) std::abort();
  path_ = p;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

void WriteFileOrDie(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << data;
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

std::vector<std::string> ListFiles(const std::string& dir) {
  std::vector<std::string> out;
  // A live daemon renames and removes files meanwhile: a listing cut short by that is
  // taken again, a file that vanished is skipped.
  for (int attempt = 0; attempt < 5; ++attempt) {
    out.clear();
    std::error_code ec;
    if (!fs::exists(dir, ec)) return out;
    fs::recursive_directory_iterator it(dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      std::error_code fec;
      if (it->is_regular_file(fec)) out.push_back(it->path().string().substr(dir.size() + 1));
    }
    if (!ec) break;
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> ReadAllLines(const std::string& dir, const std::string& prefix, bool finished_only) {
  std::vector<std::string> lines;
  for (const std::string& f : ListFiles(dir)) {
    // A writer's log (lake/segment_log.h) holds lines on their way to segments: each data
    // line counts as in the segment its key line names.
    const bool log = f.rfind(".wal/", 0) == 0 && f.ends_with(".log");
    if (!log && f.rfind(prefix, 0) != 0) continue;
    // A running daemon may publish (rename) an open segment between listing and reading:
    // its lines are in the published file, which a later poll reads.
    std::ifstream file(dir + "/" + f, std::ios::binary);
    if (!file) continue;
    std::stringstream in;
    in << file.rdbuf();
    bool wanted = !log;
    for (std::string l; std::getline(in, l);) {
      if (finished_only && in.eof()) break;  // no newline after it: still being written
      if (log && l.rfind('#', 0) == 0) {
        const size_t tab = l.find('\t');
        std::string at = l.substr(1, tab - 1) + "/";
        if (tab != std::string::npos && tab + 1 < l.size()) at += l.substr(tab + 1) + "-";
        wanted = at.rfind(prefix, 0) == 0;
        continue;
      }
      if (wanted) lines.push_back(l);
    }
  }
  return lines;
}

}  // namespace vigil::testing
