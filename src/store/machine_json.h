// The JSON view of a machine in the feature store, shared by `vigil status --json` and the
// HTTP API so both say the same thing the same way.
#pragma once

#include <optional>
#include <string>

#include "store/views.h"
#include "vigil/config.h"

namespace vigil::store {

// ISO 10816 zone of a vibration velocity (mm/s RMS): good, watch, unsatisfactory, critical.
const char* IsoZone(double v);

// The value of a latest_features column, if present and not NULL.
std::optional<double> LatestValue(const MachineStatus& m, const std::string& column);

// {"newest_window":..,"latest":{..},"iso10816_zone":..,"last_failure":..,"labels":{..}}
// ("labels" only when they were counted)
// (with "machine_id" first when with_id).
void AppendMachineJson(const MachineStatus& m, const Config& c, bool with_id, std::string* out);

}  // namespace vigil::store
