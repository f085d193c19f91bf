// What every fuzz target shares: a property check that reports the input's failing
// property and aborts, so libFuzzer saves the input as a crash (crash-<sha1>).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define FUZZ_CHECK(cond, ...)                                                       \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "property failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, "" __VA_ARGS__);                                         \
      std::fputc('\n', stderr);                                                     \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

namespace vigil::fuzz {

// Splits the input at the first NUL (MQTT forbids U+0000 in topics, so a topic never holds one).
inline std::pair<std::string_view, std::string_view> SplitAtNul(const uint8_t* data, size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  size_t nul = all.find('\0');
  if (nul == std::string_view::npos) return {all, {}};
  return {all.substr(0, nul), all.substr(nul + 1)};
}

// 2025-10-15T09:00:00Z: the receive time of every fuzzed message (the seeds are near it).
constexpr int64_t kNowMs = 1'760'518'800'000;

}  // namespace vigil::fuzz
