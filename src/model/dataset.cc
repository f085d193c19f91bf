#include "model/dataset.h"

#include "common/iso_zone.h"
#include "store/training_data.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace vigil::model {

std::vector<std::string> FeatureColumns(const Config& config) {
  std::vector<std::string> cols;
  for (const SensorSpec& s : config.sensors) cols.push_back(s.field);
  for (const FeatureSpec& f : config.features) cols.push_back(f.name);
  return cols;
}

Result<Dataset> LoadLabelled(const std::string& db_path, const Config& config, int64_t stride_ms, int64_t from_ms,
                             int64_t until_ms) {
  Dataset d;
  d.columns = FeatureColumns(config);
  const SensorSpec* vib = config.FindSensor("vibration");
  Result<store::LabelledRows> rows =
      store::ReadLabelled(db_path, d.columns, vib ? vib->field : "", stride_ms, from_ms, until_ms);
  if (!rows) return rows.error();
  d.machine = std::move(rows->machine);
  d.t = std::move(rows->t);
  d.x = std::move(rows->x);
  d.y = std::move(rows->y);
  d.vibration = std::move(rows->vibration);
  return d;
}

Split TimeSplit(const std::vector<int64_t>& t, double test_fraction, int64_t horizon_ms) {
  Split s;
  if (t.empty()) return s;
  const auto [lo, hi] = std::minmax_element(t.begin(), t.end());
  s.split_ms = *hi - static_cast<int64_t>(std::llround((*hi - *lo) * test_fraction));
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] >= s.split_ms) s.test.push_back(i);
    else if (t[i] + horizon_ms < s.split_ms) s.train.push_back(i);
  }
  return s;
}

double IsoZoneScore(std::optional<double> v) { return v ? IsoZoneIndex(*v) / 3.0 : 0; }

double RobustZ(double x, std::vector<double> baseline) {
  if (baseline.empty()) return 0;
  auto median = [](std::vector<double>& v) {
    const size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + mid, v.end());
    double m = v[mid];
    if (v.size() % 2 == 0) m = (m + *std::max_element(v.begin(), v.begin() + mid)) / 2;
    return m;
  };
  const double med = median(baseline);
  for (double& b : baseline) b = std::fabs(b - med);
  const double mad = median(baseline);
  if (mad == 0) return x == med ? 0 : (x > med ? 1e6 : -1e6);
  return (x - med) / (1.4826 * mad);
}

}  // namespace vigil::model
