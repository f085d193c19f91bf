// Booster: gradient-boosted trees through XGBoost's C API (Debian's libxgboost 1.7; the
// only code that includes xgboost/c_api.h). Model files are XGBoost JSON, readable by
// Python's xgboost for audits.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vigil/status.h"

namespace vigil::model {

class Booster {
 public:
  ~Booster();
  Booster(Booster&&) noexcept;
  Booster& operator=(Booster&&) noexcept;

  // x: rows * cols floats, row-major, NaN = missing. params: XGBoost's (objective, eta, ...).
  static Result<Booster> Train(const std::vector<float>& x, size_t cols, const std::vector<float>& y,
                               const std::vector<float>& weight, const std::map<std::string, std::string>& params,
                               int rounds);
  static Result<Booster> Load(const std::string& path);
  Status Save(const std::string& path) const;
  // Probabilities (binary:logistic), one per row.
  Result<std::vector<float>> Predict(const std::vector<float>& x, size_t cols) const;

 private:
  Booster() = default;
  void* handle_ = nullptr;
};

}  // namespace vigil::model
