#include "model/registry.h"

#include <simdjson.h>

namespace vigil::model {

std::vector<std::string> ModelColumns(const ModelRecord& m) {
  std::vector<std::string> out;
  simdjson::dom::parser parser;
  simdjson::dom::array cols;
  if (parser.parse(m.params_json)["columns"].get(cols)) return out;
  for (simdjson::dom::element c : cols) {
    std::string_view name;
    if (!c.get(name)) out.emplace_back(name);
  }
  return out;
}

std::optional<double> ModelThreshold(const ModelRecord& m) {
  simdjson::dom::parser parser;
  double t = 0;
  if (parser.parse(m.params_json)["threshold"].get(t)) return std::nullopt;  // absent or null
  return t;
}

int64_t ModelTrainedUntil(const ModelRecord& m, int64_t horizon_ms) {
  simdjson::dom::parser parser;
  int64_t t = 0;
  if (!parser.parse(m.params_json)["trained_until_ms"].get(t)) return t;
  return m.split_ms - horizon_ms - 1;
}

std::string ModelSplitKind(const ModelRecord& m) {
  simdjson::dom::parser parser;
  std::string_view k;
  if (!parser.parse(m.params_json)["split"].get(k)) return std::string(k);
  return "time";
}

std::optional<double> ModelHeldOutPrAuc(const ModelRecord& m) {
  simdjson::dom::parser parser;
  double v = 0;
  if (parser.parse(m.metrics_json)["model"]["pr_auc"].get(v)) return std::nullopt;
  return v;
}

double WarningThreshold(const ModelConfig& mc, const std::optional<double>& chosen) {
  if (mc.warning_threshold > 0) return mc.warning_threshold;
  return chosen ? *chosen : 0.5;
}

}  // namespace vigil::model
