// Value types of the model stage's output: a machine's newest prediction and an alert.
// Defined by the store (store/records.h), which keeps them in vigil.db.
#pragma once

#include "store/records.h"

namespace vigil::model {

using store::Alert;
using store::LatestPrediction;

}  // namespace vigil::model
