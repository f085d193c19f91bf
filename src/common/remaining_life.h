// The remaining-useful-life label in one place: `vigil train` (model/dataset.cc) learns it
// and `vigil export` writes it (label_rul_hours), so both must compute it the same way.
// Pure; no I/O.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace vigil {

// Remaining useful life of a machine's row at t: the time to its next failure after t
// (failures ascending), capped at cap_ms; the cap itself when no failure follows within the
// cap and the watermark has reached t + cap (as label_failure_7d is 0 only once the
// watermark passes t + H); unknown (nullopt) otherwise: the failure may yet come.
inline std::optional<int64_t> RemainingLifeMs(int64_t t, const std::vector<int64_t>& failures, int64_t watermark,
                                              int64_t cap_ms) {
  const auto next = std::upper_bound(failures.begin(), failures.end(), t);
  if (next != failures.end() && *next - t <= cap_ms) return *next - t;
  if (watermark - t >= cap_ms) return cap_ms;
  return std::nullopt;
}

}  // namespace vigil
