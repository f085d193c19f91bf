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

}  // namespace vigil::model
