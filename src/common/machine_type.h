// A machine's type: its id's prefix before the first '-' (PUMP-A01: PUMP), the whole id
// without one. vigil simulate picks base levels by it (simulate.base_levels), vigil train
// spreads machines of a type over its held-out sets (model/dataset.h).
#pragma once

#include <string_view>

namespace vigil {

inline std::string_view MachineType(std::string_view id) { return id.substr(0, id.find('-')); }

}  // namespace vigil
