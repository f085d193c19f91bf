// Training data from the feature store: labelled `features` rows sampled at a stride, the
// time-based split with a purge gap, and the cold-start anomaly score.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigil/config.h"
#include "vigil/status.h"

namespace vigil::model {

// The model's inputs, in order: every sensor's window value, then every feature.
std::vector<std::string> FeatureColumns(const Config& config);

struct Dataset {
  std::vector<std::string> columns;
  std::vector<std::string> machine;
  std::vector<int64_t> t;          // window_start_ms
  std::vector<float> x;            // row-major, NaN = missing
  std::vector<int> y;              // label_failure_7d (labelled rows only)
  std::vector<std::optional<double>> vibration;  // the ISO rule's input
  size_t rows() const { return t.size(); }
};

// Labelled rows, the first of each machine in every stride_ms bucket, in time order.
// from_ms/until_ms bound the windows (inclusive, exclusive).
Result<Dataset> LoadLabelled(const std::string& db_path, const Config& config, int64_t stride_ms,
                             int64_t from_ms = INT64_MIN, int64_t until_ms = INT64_MAX);

struct Split {
  int64_t split_ms = 0;  // test: t >= split_ms
  std::vector<size_t> train, test;
};
// The newest test_fraction of the time range is the test period; training rows end one
// horizon before it (t + horizon < split_ms), so no failure labels rows on both sides.
Split TimeSplit(const std::vector<int64_t>& t, double test_fraction, int64_t horizon_ms);

// ISO 10816 zone as a score: good 0, watch 1/3, unsatisfactory 2/3, critical 1 (missing: 0).
double IsoZoneScore(std::optional<double> vibration_mm_s);

// Robust z-score of x against a baseline: (x - median) / (1.4826 * MAD). 0 without a
// baseline; a flat baseline (MAD 0) gives 0 for x at the median and +-1e6 otherwise.
double RobustZ(double x, std::vector<double> baseline);

}  // namespace vigil::model
