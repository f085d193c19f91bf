// Small helpers to write JSON text by hand on the hot path (no DOM, no allocation beyond
// the caller's buffer). Thread-safe, pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vigil {

// Appends s as a JSON string literal (with quotes). s must be valid UTF-8; control
// characters, '"' and '\\' are escaped.
void AppendJsonString(std::string_view s, std::string* out);

// Standard base64 with padding.
void AppendBase64(std::string_view bytes, std::string* out);
std::string Base64Decode(std::string_view b64);  // for tests and replay; skips bad chars

bool IsValidUtf8(std::string_view s);

// A double as the shortest of %.15g / %.17g that reads back to the same value (so JSON
// consumers see exactly what is stored); nullopt, NaN and infinities are null.
std::string ExactJsonNumber(std::optional<double> v);

}  // namespace vigil
