// SentencePieceTokenizer and train_sentencepiece: training from caption files, CLIP-style framing
// with SOT/EOT after the model's ids, round trips, reproducible training, and clear errors.
#include <gtest/gtest.h>

#include <fstream>

#include "slipstream/core/error.h"
#include "slipstream/data/text/sentencepiece_tokenizer.h"
#include "test_paths.h"

namespace slipstream {
namespace {

std::vector<std::string> captions() {
  std::vector<std::string> out;
  for (const char* colour : {"red", "green", "blue", "yellow", "purple", "orange"}) {
    for (const char* shape : {"circle", "square", "triangle", "star", "hexagon"}) {
      for (const char* place : {"on grass", "in the sky", "on a grey background", "next to a tree"}) {
        out.push_back(std::string("a ") + colour + " " + shape + " " + place);
      }
    }
  }
  return out;
}

std::string train(const testing::TemporaryFolder& folder, const std::string& name, int64_t vocab) {
  std::ofstream(folder.file("captions.txt")) << [] {
    std::string text;
    for (const auto& caption : captions()) text += caption + "\n";
    return text;
  }();
  SentencePieceTrainingOptions options;
  options.input_files = {folder.file("captions.txt")};
  options.model_prefix = folder.file(name);
  options.vocab_size = vocab;
  train_sentencepiece(options);
  return folder.file(name) + ".model";
}

TEST(SentencePieceTokenizer, TrainsAndFramesLikeClip) {
  testing::TemporaryFolder folder;
  const SentencePieceTokenizer tokenizer(train(folder, "spm", 40));
  EXPECT_EQ(tokenizer.pieces(), 40);
  EXPECT_EQ(tokenizer.vocab_size(), 42);
  EXPECT_EQ(tokenizer.end_of_text(), 41);
  const std::vector<int64_t> framed = tokenizer.frame("a red circle on grass");
  EXPECT_EQ(framed.front(), tokenizer.start_of_text());
  EXPECT_EQ(framed.back(), tokenizer.end_of_text());
  const at::Tensor tokens = tokenizer.tokenize({"a red circle on grass"}, 40);
  EXPECT_EQ(tokens.argmax(-1).item<int64_t>(), static_cast<int64_t>(framed.size()) - 1);  // pooling finds EOT
  for (const auto& caption : captions()) EXPECT_EQ(tokenizer.decode(tokenizer.frame(caption)), caption);
  const at::Tensor truncated = tokenizer.tokenize({captions()[0]}, 4, TruncateMode::kKeepEot);
  EXPECT_EQ(truncated[0][3].item<int64_t>(), tokenizer.end_of_text());
}

TEST(SentencePieceTokenizer, TrainingIsReproducible) {
  testing::TemporaryFolder folder;
  train(folder, "one", 36);
  train(folder, "two", 36);
  // The .model proto records its own file names; the pieces and their scores must be identical.
  const std::string first = testing::read_bytes(folder.file("one") + ".vocab");
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, testing::read_bytes(folder.file("two") + ".vocab"));
}

TEST(SentencePieceTokenizer, BadInputsGiveClearErrors) {
  testing::TemporaryFolder folder;
  testing::write_bytes(folder.file("garbage.model"), "not a model");
  EXPECT_THROW(SentencePieceTokenizer(folder.file("garbage.model")), FileFormatError);
  EXPECT_THROW(SentencePieceTokenizer(folder.file("missing.model")), FileFormatError);
  SentencePieceTrainingOptions options;
  options.input_files = {folder.file("missing.txt")};
  options.model_prefix = folder.file("x");
  EXPECT_THROW(train_sentencepiece(options), FileFormatError);
  testing::write_bytes(folder.file("c.txt"), "a b c\n");
  options.input_files = {folder.file("c.txt")};
  options.model_type = "wordpiece";
  EXPECT_THROW(train_sentencepiece(options), ConfigError);
}

}  // namespace
}  // namespace slipstream
