#include "slipstream/data/text/text_cleaning.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "slipstream/data/text/unicode.h"

namespace slipstream {
namespace {

namespace tables {
struct StringPair {
  const char* key;
  const char* value;
};
struct CodePointString {
  char32_t code_point;
  const char* value;
};
#include "text_tables.inc"
}  // namespace tables

using unicode::to_utf32;
using unicode::to_utf8;

// The generated tables as look-ups on code-point strings.
struct Tables {
  std::unordered_map<std::u32string, std::u32string> html5;        // "amp;" -> "&", "amp" -> "&"
  std::unordered_map<std::u32string, std::u32string> ftfy_entities;  // "&amp;" -> "&"
  std::unordered_map<char32_t, std::u32string> invalid_charrefs;
  std::unordered_map<char32_t, std::u32string> c1_as_windows_1252, ligatures, width;
  std::vector<char32_t> invalid_codepoints;                    // sorted
  std::vector<char32_t> control_chars;                         // sorted

  Tables() {
    for (const auto& entry : tables::kHtml5Entities) html5[to_utf32(entry.key)] = to_utf32(entry.value);
    for (const auto& entry : tables::kFtfyEntities) ftfy_entities[to_utf32(entry.key)] = to_utf32(entry.value);
    for (const auto& entry : tables::kInvalidCharrefs) invalid_charrefs[entry.code_point] = to_utf32(entry.value);
    for (const auto& entry : tables::kC1AsWindows1252) c1_as_windows_1252[entry.code_point] = to_utf32(entry.value);
    for (const auto& entry : tables::kLigatures) ligatures[entry.code_point] = to_utf32(entry.value);
    for (const auto& entry : tables::kWidthMap) width[entry.code_point] = to_utf32(entry.value);
    invalid_codepoints.assign(std::begin(tables::kInvalidCodepoints), std::end(tables::kInvalidCodepoints));
    control_chars.assign(std::begin(tables::kControlChars), std::end(tables::kControlChars));
  }
};

const Tables& text_tables() {
  static const Tables instance;
  return instance;
}

bool is_ascii_digit(char32_t c) { return c >= U'0' && c <= U'9'; }
bool is_ascii_hex(char32_t c) { return is_ascii_digit(c) || (c >= U'a' && c <= U'f') || (c >= U'A' && c <= U'F'); }
bool is_ascii_alnum(char32_t c) { return is_ascii_digit(c) || (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z'); }

// Python's html._replace_charref for a numeric reference; `value` is capped to stay above 0x10FFFF.
std::u32string numeric_reference(uint64_t value) {
  const Tables& t = text_tables();
  if (value <= 0x10FFFF) {
    auto remapped = t.invalid_charrefs.find(static_cast<char32_t>(value));
    if (remapped != t.invalid_charrefs.end()) return remapped->second;
  }
  if ((value >= 0xD800 && value <= 0xDFFF) || value > 0x10FFFF) return U"\uFFFD";
  if (std::binary_search(t.invalid_codepoints.begin(), t.invalid_codepoints.end(), static_cast<char32_t>(value))) {
    return U"";
  }
  return std::u32string(1, static_cast<char32_t>(value));
}

// Parses digits of `base` from text[begin, end); saturates instead of overflowing.
uint64_t parse_number(const std::u32string& text, size_t begin, size_t end, int base) {
  uint64_t value = 0;
  for (size_t i = begin; i < end; ++i) {
    const char32_t c = text[i];
    const uint64_t digit = is_ascii_digit(c) ? c - U'0' : (c | 0x20) - U'a' + 10;
    value = std::min<uint64_t>(value * base + digit, uint64_t{1} << 40);
  }
  return value;
}

// html.unescape's pattern: &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)
std::u32string html_unescape32(const std::u32string& text) {
  if (text.find(U'&') == std::u32string::npos) return text;
  const Tables& t = text_tables();
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != U'&') {
      out.push_back(text[i++]);
      continue;
    }
    const size_t start = i + 1;
    if (start < text.size() && text[start] == U'#') {
      const bool hex = start + 1 < text.size() && (text[start + 1] == U'x' || text[start + 1] == U'X');
      size_t digits = start + (hex ? 2 : 1), end = digits;
      while (end < text.size() && (hex ? is_ascii_hex(text[end]) : is_ascii_digit(text[end]))) ++end;
      if (end == digits) {  // no digits: '&' stays, as no alternative of the pattern matches
        out.push_back(text[i++]);
        continue;
      }
      out += numeric_reference(parse_number(text, digits, end, hex ? 16 : 10));
      i = end < text.size() && text[end] == U';' ? end + 1 : end;
      continue;
    }
    size_t end = start;
    auto name_char = [](char32_t c) {
      return c != U'\t' && c != U'\n' && c != U'\f' && c != U' ' && c != U'<' && c != U'&' && c != U'#' && c != U';';
    };
    while (end < text.size() && end - start < 32 && name_char(text[end])) ++end;
    if (end == start) {
      out.push_back(text[i++]);
      continue;
    }
    if (end < text.size() && text[end] == U';') ++end;
    const std::u32string name = text.substr(start, end - start);
    auto found = t.html5.find(name);
    if (found != t.html5.end()) {
      out += found->second;
    } else {
      bool replaced = false;
      for (size_t length = name.size() - 1; length > 1 && !replaced; --length) {
        auto prefix = t.html5.find(name.substr(0, length));
        if (prefix != t.html5.end()) {
          out += prefix->second + name.substr(length);
          replaced = true;
        }
      }
      if (!replaced) out += U"&" + name;
    }
    i = end;
  }
  return out;
}

// ftfy's unescape_html: only &#?[0-9A-Za-z]{1,24}; forms, from ftfy's own table.
std::u32string ftfy_unescape_html(const std::u32string& text) {
  const Tables& t = text_tables();
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != U'&') {
      out.push_back(text[i++]);
      continue;
    }
    size_t body = i + 1;
    const bool numeric = body < text.size() && text[body] == U'#';
    if (numeric) ++body;
    size_t end = body;
    while (end < text.size() && is_ascii_alnum(text[end])) ++end;
    const size_t length = end - body;
    if (length < 1 || length > 24 || end >= text.size() || text[end] != U';') {
      out.push_back(text[i++]);
      continue;
    }
    const std::u32string entity = text.substr(i, end + 1 - i);
    auto found = t.ftfy_entities.find(entity);
    if (found != t.ftfy_entities.end()) {
      out += found->second;
    } else if (numeric) {
      const std::u32string unescaped = html_unescape32(entity);
      out += unescaped.find(U';') != std::u32string::npos ? entity : unescaped;
    } else {
      out += entity;
    }
    i = end + 1;
  }
  return out;
}

// One pass of ftfy's character fixers after unescaping, in ftfy's order.
std::u32string ftfy_character_fixes(const std::u32string& text) {
  const Tables& t = text_tables();
  std::u32string out;
  out.reserve(text.size());
  auto replace_from = [](const std::unordered_map<char32_t, std::u32string>& table, const std::u32string& input) {
    std::u32string result;
    result.reserve(input.size());
    for (char32_t c : input) {
      auto hit = table.find(c);
      if (hit != table.end()) {
        result += hit->second;
      } else {
        result.push_back(c);
      }
    }
    return result;
  };
  std::u32string step = replace_from(t.c1_as_windows_1252, text);  // fix_c1_controls
  step = replace_from(t.ligatures, step);                          // fix_latin_ligatures
  step = replace_from(t.width, step);                              // fix_character_width
  for (char32_t& c : step) {  // uncurl_quotes
    if (c == 0x02BC || (c >= 0x2018 && c <= 0x201B)) c = U'\'';
    if (c >= 0x201C && c <= 0x201F) c = U'"';
  }
  // fix_line_breaks
  for (size_t i = 0; i < step.size(); ++i) {
    const char32_t c = step[i];
    if (c == U'\r') {
      out.push_back(U'\n');
      if (i + 1 < step.size() && step[i + 1] == U'\n') ++i;
    } else if (c == 0x2028 || c == 0x2029 || c == 0x85) {
      out.push_back(U'\n');
    } else {
      out.push_back(c);
    }
  }
  // remove_terminal_escapes: ESC '[' [0-9;]* [A-Za-z]
  std::u32string without_escapes;
  without_escapes.reserve(out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 0x1B && i + 1 < out.size() && out[i + 1] == U'[') {
      size_t j = i + 2;
      while (j < out.size() && (is_ascii_digit(out[j]) || out[j] == U';')) ++j;
      if (j < out.size() && ((out[j] | 0x20) >= U'a' && (out[j] | 0x20) <= U'z')) {
        i = j;
        continue;
      }
    }
    without_escapes.push_back(out[i]);
  }
  // remove_control_chars
  without_escapes.erase(std::remove_if(without_escapes.begin(), without_escapes.end(),
                                       [&](char32_t c) {
                                         return std::binary_search(t.control_chars.begin(), t.control_chars.end(), c);
                                       }),
                        without_escapes.end());
  return unicode::nfc(without_escapes);
}

std::u32string fix_text32(const std::u32string& text) {
  std::u32string out;
  bool unescape = true;  // ftfy's "auto": off from the first line holding '<' to the end
  size_t position = 0;
  while (position < text.size()) {
    const size_t newline = text.find(U'\n', position);
    const size_t end = newline == std::u32string::npos ? text.size() : newline + 1;
    std::u32string segment = text.substr(position, end - position);
    if (segment.find(U'<') != std::u32string::npos) unescape = false;
    while (true) {  // ftfy applies its fixers until nothing changes
      const std::u32string before = segment;
      if (unescape) segment = ftfy_unescape_html(segment);
      segment = ftfy_character_fixes(segment);
      if (segment == before) break;
    }
    out += segment;
    position = end;
  }
  return out;
}

std::u32string strip_python_space(const std::u32string& text) {
  size_t begin = 0, end = text.size();
  while (begin < end && unicode::is_python_space(text[begin])) ++begin;
  while (end > begin && unicode::is_python_space(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

}  // namespace

std::string html_unescape(const std::string& utf8) { return to_utf8(html_unescape32(to_utf32(utf8))); }

std::string fix_text(const std::string& utf8) { return to_utf8(fix_text32(to_utf32(utf8))); }

std::string clean_caption(const std::string& utf8) {
  // basic_clean: ftfy.fix_text, html.unescape twice, strip
  std::u32string text = strip_python_space(html_unescape32(html_unescape32(fix_text32(to_utf32(utf8)))));
  // whitespace_clean: re.sub(r"\s+", " ", text).strip()
  std::u32string collapsed;
  collapsed.reserve(text.size());
  for (char32_t c : text) {
    if (unicode::is_python_space(c)) {
      if (collapsed.empty() || collapsed.back() != U' ') collapsed.push_back(U' ');
    } else {
      collapsed.push_back(c);
    }
  }
  return to_utf8(unicode::lower(strip_python_space(collapsed)));
}

}  // namespace slipstream
