// printf-style formatting into a std::string, for the numbers of progress lines and tables.
#pragma once
#include <cstdio>
#include <string>

namespace slipstream {

template <typename... Values>
std::string format_text(const char* pattern, Values... values) {
  const int size = std::snprintf(nullptr, 0, pattern, values...);
  if (size <= 0) return std::string();
  std::string text(static_cast<size_t>(size), '\0');
  std::snprintf(text.data(), text.size() + 1, pattern, values...);
  return text;
}

}  // namespace slipstream
