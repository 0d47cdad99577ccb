// Test helper: the corpora tests/data/make_corpora.py builds (fixture "corpora") and its expected.json.
#pragma once
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "slipstream/data/image/image.h"

namespace slipstream::testing {

inline std::string corpus_path(const std::string& relative) { return std::string(SLIPSTREAM_CORPORA_DIR) + "/" + relative; }

inline const nlohmann::json& expected_corpora() {
  static const nlohmann::json expected = [] {
    std::ifstream in(corpus_path("expected.json"));
    return nlohmann::json::parse(in);
  }();
  return expected;
}

// make_corpora.py's checksum(): sum of pixel * (flat position % 251 + 1) over a uint8 [H, W, 3] image.
inline int64_t pixel_checksum(const Image& image) {
  const Image contiguous = image.contiguous();
  const uint8_t* p = contiguous.data_ptr<uint8_t>();
  int64_t sum = 0;
  for (int64_t i = 0; i < contiguous.numel(); ++i) sum += static_cast<int64_t>(p[i]) * (i % 251 + 1);
  return sum;
}

}  // namespace slipstream::testing
