// SentencePiece parity: a model trained by the Python sentencepiece package encodes the same
// captions to the same ids through SentencePieceTokenizer.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "parity/parity_data.h"
#include "slipstream/data/text/sentencepiece_tokenizer.h"

namespace slipstream {
namespace {

TEST(ParitySentencePiece, EncodesLikeThePythonPackage) {
  std::ifstream in(testing::parity_path("sentencepiece.json"));
  ASSERT_TRUE(in.good()) << "sentencepiece.json missing: run the parity_references test first";
  const nlohmann::json ref = nlohmann::json::parse(in);
  const SentencePieceTokenizer tokenizer(ref.at("model").get<std::string>());
  EXPECT_EQ(tokenizer.pieces(), ref.at("pieces").get<int64_t>());
  int rows = 0, equal = 0;
  for (const auto& row : ref.at("rows")) {
    const auto ids = tokenizer.encode(row.at("text").get<std::string>());
    ++rows;
    equal += ids == row.at("ids").get<std::vector<int64_t>>();
    EXPECT_EQ(ids, row.at("ids").get<std::vector<int64_t>>()) << nlohmann::json(row.at("text")).dump();
  }
  std::printf("[parity] sentencepiece on %d captions: %d/%d equal to the Python package\n", rows, equal, rows);
  EXPECT_GE(rows, 60);
}

}  // namespace
}  // namespace slipstream
