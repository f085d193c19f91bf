// The TOML config loader (what `vigil check-config` runs: ParseConfigText, then
// CheckConfig). Property: no exception escapes; a refused file's every problem names the
// file and the line ("fuzz.toml:12: ..."); an accepted file passes or fails CheckConfig
// with a reason.
#include "fuzz_check.h"
#include "vigil/config.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<Config> c = ParseConfigText(text, "fuzz.toml");
  if (!c) {
    const std::string& m = c.error().message();
    FUZZ_CHECK(!m.empty());
    size_t start = 0;
    // Every problem starts a line with "fuzz.toml:<line>:" (a message may wrap onto
    // following lines that start with whitespace).
    for (size_t end; start < m.size(); start = end + 1) {
      end = m.find('\n', start);
      if (end == std::string::npos) end = m.size();
      std::string_view l(m.data() + start, end - start);
      if (!l.empty() && (l[0] == ' ' || l[0] == '\t')) continue;
      FUZZ_CHECK(l.starts_with("fuzz.toml:") && l.size() > 10 && l[10] >= '1' && l[10] <= '9',
                 "problem without a location: %s", m.c_str());
    }
    return 0;
  }
  Status s = CheckConfig(*c);
  FUZZ_CHECK(s.ok() || !s.message().empty());
  return 0;
}
