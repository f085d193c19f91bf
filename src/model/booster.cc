#include "model/booster.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include "common/dyn_lib.h"
#include "lake/file_system.h"

namespace vigil::model {
namespace {

// libxgboost, opened when the first booster is made (common/dyn_lib.h).
#define VIGIL_XGB_FUNCTIONS(X)                                                                              \
  X(XGBGetLastError) X(XGDMatrixCreateFromMat) X(XGDMatrixFree) X(XGDMatrixSetFloatInfo) X(XGBoosterCreate) \
  X(XGBoosterFree) X(XGBoosterSetParam) X(XGBoosterUpdateOneIter) X(XGBoosterLoadModel) X(XGBoosterSetAttr) \
  X(XGBoosterGetAttr) X(XGBoosterSaveModelToBuffer) X(XGBoosterPredict)

struct Xgb {
#define VIGIL_XGB_MEMBER(f) decltype(&::f) f = nullptr;
  VIGIL_XGB_FUNCTIONS(VIGIL_XGB_MEMBER)
#undef VIGIL_XGB_MEMBER
} xgb;

Status LoadXgb() {
  static const Status loaded = [] {
    static const DynLib lib("libxgboost.so.0", "libxgboost0");
#define VIGIL_XGB_RESOLVE(f) VIGIL_RETURN_IF_ERROR(lib.Resolve(#f, &xgb.f));
    VIGIL_XGB_FUNCTIONS(VIGIL_XGB_RESOLVE)
#undef VIGIL_XGB_RESOLVE
    return Status::Ok();
  }();
  return loaded;
}

Status XgbError(const std::string& what) { return Status::Internal(what + ": " + xgb.XGBGetLastError()); }

// A DMatrix that frees itself.
struct Matrix {
  DMatrixHandle h = nullptr;
  ~Matrix() {
    if (h) xgb.XGDMatrixFree(h);
  }
};

Status MakeMatrix(const std::vector<float>& x, size_t cols, Matrix* m) {
  const bst_ulong rows = cols ? x.size() / cols : 0;
  if (xgb.XGDMatrixCreateFromMat(x.data(), rows, cols, std::numeric_limits<float>::quiet_NaN(), &m->h) != 0) {
    return XgbError("XGDMatrixCreateFromMat");
  }
  return Status::Ok();
}

}  // namespace

Booster::~Booster() {
  if (handle_) xgb.XGBoosterFree(handle_);
}
Booster::Booster(Booster&& o) noexcept : handle_(o.handle_) { o.handle_ = nullptr; }
Booster& Booster::operator=(Booster&& o) noexcept {
  std::swap(handle_, o.handle_);
  return *this;
}

Result<Booster> Booster::Train(const std::vector<float>& x, size_t cols, const std::vector<float>& y,
                               const std::vector<float>& weight, const std::map<std::string, std::string>& params,
                               int rounds) {
  VIGIL_RETURN_IF_ERROR(LoadXgb());
  Matrix m;
  VIGIL_RETURN_IF_ERROR(MakeMatrix(x, cols, &m));
  if (xgb.XGDMatrixSetFloatInfo(m.h, "label", y.data(), y.size()) != 0) return XgbError("labels");
  if (!weight.empty() && xgb.XGDMatrixSetFloatInfo(m.h, "weight", weight.data(), weight.size()) != 0) return XgbError("weights");
  Booster b;
  if (xgb.XGBoosterCreate(&m.h, 1, &b.handle_) != 0) return XgbError("XGBoosterCreate");
  for (const auto& [k, v] : params) {
    if (xgb.XGBoosterSetParam(b.handle_, k.c_str(), v.c_str()) != 0) return XgbError("parameter " + k);
  }
  for (int i = 0; i < rounds; ++i) {
    if (xgb.XGBoosterUpdateOneIter(b.handle_, i, m.h) != 0) return XgbError("training round " + std::to_string(i));
  }
  return b;
}

Result<Booster> Booster::Load(const std::string& path) {
  VIGIL_RETURN_IF_ERROR(LoadXgb());
  Booster b;
  if (xgb.XGBoosterCreate(nullptr, 0, &b.handle_) != 0) return XgbError("XGBoosterCreate");
  if (xgb.XGBoosterLoadModel(b.handle_, path.c_str()) != 0) return XgbError("loading " + path);
  return b;
}

Status Booster::SetParam(const std::string& name, const std::string& value) {
  if (xgb.XGBoosterSetParam(handle_, name.c_str(), value.c_str()) != 0) return XgbError("parameter " + name);
  return Status::Ok();
}

Status Booster::UndoPositiveWeight(double w) {
  char base[32];
  std::snprintf(base, sizeof base, "%.9g", 1.0 / (1.0 + w));
  return SetParam("base_score", base);
}

Status Booster::SetAttr(const std::string& key, const std::string& value) {
  if (xgb.XGBoosterSetAttr(handle_, key.c_str(), value.c_str()) != 0) return XgbError("attribute " + key);
  return Status::Ok();
}

std::optional<std::string> Booster::Attr(const std::string& key) const {
  const char* out = nullptr;
  int success = 0;
  if (xgb.XGBoosterGetAttr(handle_, key.c_str(), &out, &success) != 0 || !success || !out) return std::nullopt;
  return std::string(out);
}

Status Booster::Save(const std::string& path) const {
  bst_ulong n = 0;
  const char* json = nullptr;
  if (xgb.XGBoosterSaveModelToBuffer(handle_, R"({"format": "json"})", &n, &json) != 0) return XgbError("saving " + path);
  return lake::WriteFileAtomic(lake::PosixFileSystem::Instance(), path, std::string_view(json, n));
}

Result<std::vector<float>> Booster::Predict(const std::vector<float>& x, size_t cols) const {
  Matrix m;
  VIGIL_RETURN_IF_ERROR(MakeMatrix(x, cols, &m));
  bst_ulong n = 0;
  const float* out = nullptr;
  if (xgb.XGBoosterPredict(handle_, m.h, 0, 0, 0, &n, &out) != 0) return XgbError("XGBoosterPredict");
  return std::vector<float>(out, out + n);
}

}  // namespace vigil::model
