// Unicode helpers over ICU: UTF-8 <-> code points, NFC, full lower-casing, and the character
// classes the CLIP tokenizer's pattern uses (\p{L}, \p{N}, whitespace).
#pragma once
#include <string>
#include <string_view>

namespace slipstream::unicode {

// Invalid UTF-8 becomes U+FFFD, one per maximal bad subsequence (as Python's errors="replace").
std::u32string to_utf32(std::string_view utf8);
std::string to_utf8(std::u32string_view text);

std::u32string nfc(const std::u32string& text);
// Full lower-case mapping with the root locale (final sigma, U+0130 -> "i" + U+0307), as str.lower().
std::u32string lower(const std::u32string& text);

bool is_letter(char32_t c);        // general category L (Lu, Ll, Lt, Lm, Lo)
bool is_number(char32_t c);        // general category N (Nd, Nl, No)
bool is_white_space(char32_t c);   // the Unicode White_Space property
bool is_python_space(char32_t c);  // str.isspace(): White_Space plus U+001C..U+001F

}  // namespace slipstream::unicode
