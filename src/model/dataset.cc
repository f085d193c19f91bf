#include "model/dataset.h"

#include "common/iso_zone.h"

#include <sqlite3.h>

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
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return Status::NotFound("no feature store at " + db_path + " (run vigil process first)");
  }
  sqlite3_busy_timeout(db, 10'000);
  Dataset d;
  d.columns = FeatureColumns(config);
  const SensorSpec* vib = config.FindSensor("vibration");
  std::string cols;
  for (const std::string& c : d.columns) cols += ", f." + c;
  // The first labelled row of each machine in each stride bucket.
  const std::string sql =
      "SELECT f.machine_id, f.window_start_ms, f.label_failure_7d" + cols + (vib ? ", f." + vib->field : ", NULL") +
      " FROM features f JOIN (SELECT machine_id, min(window_start_ms) AS w FROM features"
      " WHERE label_failure_7d IS NOT NULL AND window_start_ms >= ?1 AND window_start_ms < ?2"
      " GROUP BY machine_id, window_start_ms / ?3) s ON f.machine_id = s.machine_id AND f.window_start_ms = s.w"
      " ORDER BY f.window_start_ms, f.machine_id";
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    std::string e = sqlite3_errmsg(db);
    sqlite3_close(db);
    return Status::InvalidArgument("the feature store does not match the configuration: " + e);
  }
  sqlite3_bind_int64(st, 1, from_ms);
  sqlite3_bind_int64(st, 2, until_ms);
  sqlite3_bind_int64(st, 3, std::max<int64_t>(stride_ms, 1));
  const int n = static_cast<int>(d.columns.size());
  while (sqlite3_step(st) == SQLITE_ROW) {
    d.machine.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    d.t.push_back(sqlite3_column_int64(st, 1));
    d.y.push_back(sqlite3_column_int(st, 2));
    for (int i = 0; i < n; ++i) {
      d.x.push_back(sqlite3_column_type(st, 3 + i) == SQLITE_NULL ? std::numeric_limits<float>::quiet_NaN()
                                                                  : static_cast<float>(sqlite3_column_double(st, 3 + i)));
    }
    d.vibration.push_back(sqlite3_column_type(st, 3 + n) == SQLITE_NULL ? std::nullopt
                                                                        : std::optional(sqlite3_column_double(st, 3 + n)));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
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
