// MonotonicMs: milliseconds on a clock that never steps (steady_clock, arbitrary epoch),
// for intervals that must keep running when NTP steps the wall clock, such as the systemd
// watchdog. Wall-clock times come from vigil/clock.h. Defined in clock.cc.
#pragma once

#include <cstdint>

namespace vigil {

int64_t MonotonicMs();

}  // namespace vigil
