// Booster: gradient-boosted trees through XGBoost's C API (Debian's libxgboost 1.7; the
// only code that includes xgboost/c_api.h). Model files are XGBoost JSON, readable by
// Python's xgboost for audits.
#pragma once

#include <map>
#include <memory>
#include <optional>
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
  // XGBoost JSON, written atomically and durably (lake::WriteFileAtomic): a crash or power
  // cut leaves the old file or the whole new one, never a torn model.
  Status Save(const std::string& path) const;
  // Changes a parameter of a trained model (kept in its file), e.g. base_score.
  Status SetParam(const std::string& name, const std::string& value);
  // For a model trained with scale_pos_weight w (and base_score 0.5): w multiplies the
  // learnt odds by w; a base margin of -ln(w) (base_score 1 / (1 + w)) divides them back,
  // so the output is a probability again (what thresholds and the Brier score assume).
  // Part of the model file: Python's xgboost reads the same probabilities.
  Status UndoPositiveWeight(double w);
  // String attributes kept in the model file ("attributes" in its JSON; Python's
  // Booster.attr() reads them): vigil stores the feature columns, its chosen threshold and
  // the horizon there (model/registry.h), so a model file alone can score an export.
  // Feature names are not set: Python's predict would then demand them of every DMatrix.
  Status SetAttr(const std::string& key, const std::string& value);
  std::optional<std::string> Attr(const std::string& key) const;  // empty when absent
  // Probabilities (binary:logistic), one per row.
  Result<std::vector<float>> Predict(const std::vector<float>& x, size_t cols) const;

 private:
  Booster() = default;
  void* handle_ = nullptr;
};

}  // namespace vigil::model
