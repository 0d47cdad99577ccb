#include "slipstream/data/formats/brace_expansion.h"

#include <cstdio>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

constexpr size_t kMaxExpansion = 10'000'000;

// The alternatives one brace body stands for: "00000..00099" or "a,b,c".
std::vector<std::string> alternatives(const std::string& body, const std::string& pattern) {
  const size_t dots = body.find("..");
  if (dots == std::string::npos) {
    std::vector<std::string> parts{""};
    for (char c : body) {
      if (c == ',') parts.emplace_back(); else parts.back() += c;
    }
    return parts;
  }
  const std::string first = body.substr(0, dots), last = body.substr(dots + 2);
  auto is_number = [](const std::string& s) {
    if (s.empty() || s.size() > 18) return false;
    for (char c : s) if (c < '0' || c > '9') return false;
    return true;
  };
  if (!is_number(first) || !is_number(last)) throw ConfigError("'" + pattern + "': range {" + body + "} is not numeric");
  const long long from = std::stoll(first), to = std::stoll(last);
  if (to < from) throw ConfigError("'" + pattern + "': range {" + body + "} runs backwards");
  if (static_cast<unsigned long long>(to - from) >= kMaxExpansion) throw ConfigError("'" + pattern + "': range too large");
  std::vector<std::string> values;
  for (long long v = from; v <= to; ++v) {
    char text[32];
    std::snprintf(text, sizeof(text), "%0*lld", static_cast<int>(first.size()), v);
    values.emplace_back(text);
  }
  return values;
}

void expand(const std::string& pattern, const std::string& whole, std::vector<std::string>& out) {
  const size_t open = pattern.find('{');
  if (open == std::string::npos) {
    if (pattern.find('}') != std::string::npos) throw ConfigError("'" + whole + "': unbalanced '}'");
    out.push_back(pattern);
    return;
  }
  const size_t close = pattern.find('}', open);
  if (close == std::string::npos) throw ConfigError("'" + whole + "': unbalanced '{'");
  const std::string head = pattern.substr(0, open), tail = pattern.substr(close + 1);
  if (head.find('}') != std::string::npos) throw ConfigError("'" + whole + "': unbalanced '}'");
  for (const std::string& choice : alternatives(pattern.substr(open + 1, close - open - 1), whole)) {
    expand(head + choice + tail, whole, out);
    if (out.size() > kMaxExpansion) throw ConfigError("'" + whole + "' expands to too many names");
  }
}

}  // namespace

std::vector<std::string> expand_braces(const std::string& pattern) {
  std::vector<std::string> names;
  size_t start = 0;
  while (true) {
    const size_t separator = pattern.find("::", start);
    const std::string part = pattern.substr(start, separator == std::string::npos ? std::string::npos : separator - start);
    if (!part.empty()) expand(part, pattern, names);
    if (separator == std::string::npos) break;
    start = separator + 2;
  }
  if (names.empty()) throw ConfigError("'" + pattern + "' names no files");
  return names;
}

}  // namespace slipstream
