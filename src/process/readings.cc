#include "process/readings.h"

#include <cstring>

namespace vigil::process {
namespace {

// The bits of a double as an unsigned key in numeric order.
uint64_t OrderKey(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return (bits >> 63) ? ~bits : bits | (uint64_t{1} << 63);
}

}  // namespace

int64_t ChunkMs(int64_t window_ms) {
  constexpr int64_t kTarget = 600'000;
  return window_ms >= kTarget ? window_ms : kTarget / window_ms * window_ms;
}

bool WinsOver(const store::StoredReading& a, const store::StoredReading& b) {
  if (a.received_ms != b.received_ms) return a.received_ms < b.received_ms;
  return OrderKey(a.value) < OrderKey(b.value);
}

void MergeReadings(std::vector<store::StoredReading>* stored, const store::StoredReading* fresh, size_t n,
                   MergeCounts* counts, std::vector<int64_t>* changed) {
  std::vector<store::StoredReading> out;
  out.reserve(stored->size() + n);
  size_t i = 0, j = 0;
  while (j < n) {
    const store::StoredReading& f = fresh[j];
    if (i < stored->size() && (*stored)[i].ts_ms < f.ts_ms) {
      out.push_back((*stored)[i++]);
      continue;
    }
    if (j > 0 && fresh[j - 1].ts_ms == f.ts_ms) {  // a later copy within the batch: it lost
      counts->duplicates++;
      ++j;
      continue;
    }
    if (i < stored->size() && (*stored)[i].ts_ms == f.ts_ms) {
      store::StoredReading& s = (*stored)[i++];
      counts->duplicates++;
      if (WinsOver(f, s)) {
        if (f.value != s.value) changed->push_back(f.ts_ms);
        out.push_back(f);
      } else {
        out.push_back(s);
      }
    } else {
      counts->readings++;
      changed->push_back(f.ts_ms);
      out.push_back(f);
    }
    ++j;
  }
  for (; i < stored->size(); ++i) out.push_back((*stored)[i]);
  *stored = std::move(out);
}

bool WindowMean(const std::vector<store::StoredReading>& rs, size_t* k, int64_t win, int64_t window_ms, double* mean) {
  while (*k < rs.size() && rs[*k].ts_ms < win) ++*k;
  double sum = 0;
  int64_t n = 0;
  for (size_t q = *k; q < rs.size() && rs[q].ts_ms < win + window_ms; ++q) sum += rs[q].value, ++n;
  if (n == 0) return false;
  *mean = sum / static_cast<double>(n);
  return true;
}

}  // namespace vigil::process
