// Training data from vigil.db: labelled `features` rows, the first of each machine in every
// stride bucket (the model stage samples, splits and trains on them: model/dataset.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vigil/status.h"

namespace vigil::store {

struct LabelledRows {
  std::vector<std::string> machine;
  std::vector<int64_t> t;                        // window_start_ms
  std::vector<float> x;                          // row-major over columns, NaN = NULL
  std::vector<int> y;                            // label_failure_7d
  std::vector<std::optional<double>> vibration;  // vibration_field's value (none: all nullopt)
  // Each machine's watermark (table watermarks: its latest reading or event time seen);
  // a machine without one is absent.
  std::map<std::string, int64_t> watermark;
  // Each machine's newest failure event time (table failure_history); absent without one.
  std::map<std::string, int64_t> last_failure;
  // Each machine's failure event times, ascending (the remaining-useful-life label).
  std::map<std::string, std::vector<int64_t>> failures;
};

// Rows with window start in [from_ms, until_ms), in time order. vibration_field: a sensor
// field or "" for none. kNotFound without vigil.db; kInvalidArgument when the columns do
// not exist.
Result<LabelledRows> ReadLabelled(const std::string& db_path, const std::vector<std::string>& columns,
                                  const std::string& vibration_field, int64_t stride_ms, int64_t from_ms,
                                  int64_t until_ms);

}  // namespace vigil::store
