// The contract's name rules, checked by hand: a std::regex with a bounded repetition
// ({0,63}) compiles to hundreds of states, 2 million instructions at every command's
// config check.
#pragma once

#include <cstddef>
#include <string_view>

namespace vigil {

// ^[A-Za-z0-9][A-Za-z0-9_.-]{0,max_len-1}$: safe as one path component, never "." or "..".
// Machine ids, sensor names, gateway ids (64), fleet announcement ids (128).
inline bool IsSafeName(std::string_view s, size_t max_len = 64) {
  auto alnum = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (s.empty() || s.size() > max_len || !alnum(s[0])) return false;
  for (char c : s.substr(1)) {
    if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

// ^[A-Za-z_][A-Za-z0-9_]{0,62}$: an SQL column name that needs no quoting.
inline bool IsIdentifier(std::string_view s) {
  auto word = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (s.empty() || s.size() > 63 || !word(s[0])) return false;
  for (char c : s.substr(1)) {
    if (!word(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace vigil
