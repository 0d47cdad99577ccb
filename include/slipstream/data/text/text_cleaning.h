// Caption cleaning as CLIP's tokenizer does it (open_clip's `_clean_lower`): ftfy.fix_text,
// html.unescape twice, strip, whitespace runs to one space, lower-case.
#pragma once
#include <string>

namespace slipstream {

// Python's html.unescape: named references (HTML5 list, with and without ';', longest prefix),
// decimal and hex references with HTML5's remapping of invalid code points.
std::string html_unescape(const std::string& utf8);

// ftfy.fix_text on well-formed text, line by line to a fixed point: HTML entities (skipped from
// the first line holding '<' on), C1 controls read as Windows-1252, Latin ligatures, full-width
// forms, curly quotes, line breaks, terminal escapes, control characters, NFC. ftfy's mojibake
// repair (fix_encoding) is not reproduced: it only changes text that is already broken.
std::string fix_text(const std::string& utf8);

// The full cleaning CLIP's tokenizer applies before splitting.
std::string clean_caption(const std::string& utf8);

}  // namespace slipstream
