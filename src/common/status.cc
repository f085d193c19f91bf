#include "vigil/status.h"

namespace vigil {

std::string Status::ToString() const {
  if (ok()) return "OK";
  return message_;
}

}  // namespace vigil
