// The dashboard's files (src/http/assets/), embedded in the binary at build time by
// cmake/embed_assets.cmake.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace vigil::http {

struct Asset {
  const char* path;  // "/index.html", "/vendor/uPlot.iife.min.js"
  const unsigned char* data;
  size_t size;
  std::string_view bytes() const { return {reinterpret_cast<const char*>(data), size}; }
};

const std::vector<Asset>& Assets();

}  // namespace vigil::http
