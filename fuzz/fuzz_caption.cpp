// libFuzzer target: arbitrary bytes as a caption go through CLIP's cleaning (ftfy subset,
// html.unescape, NFC, lower-casing) and pattern split without crashing; invalid UTF-8 is replaced.
#include <string>

#include "slipstream/data/text/clip_tokenizer.h"
#include "slipstream/data/text/text_cleaning.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string cleaned = slipstream::clean_caption(text);
  (void)slipstream::ClipTokenizer::split(cleaned);
  (void)slipstream::html_unescape(text);
  return 0;
}
