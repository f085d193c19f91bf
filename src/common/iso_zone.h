// ISO 10816 vibration severity zones of a velocity in mm/s RMS, in one place: good
// (<= 4.5), watch (<= 7.1), unsatisfactory (<= 11.2), critical (above). Used by status,
// the API, the model's baseline rule and the zone alerts.
#pragma once

namespace vigil {

// Zone k (1..3) is entered above kIsoZoneLowerBound[k]; kIsoZoneLowerBound[0] is unused.
inline constexpr double kIsoZoneLowerBound[] = {0, 4.5, 7.1, 11.2};
inline constexpr const char* kIsoZoneName[] = {"good", "watch", "unsatisfactory", "critical"};

// 0 good, 1 watch, 2 unsatisfactory, 3 critical.
inline int IsoZoneIndex(double mm_s) {
  int z = 0;
  while (z < 3 && mm_s > kIsoZoneLowerBound[z + 1]) ++z;
  return z;
}

}  // namespace vigil
