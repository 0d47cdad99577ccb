// A SentencePiece model as a caption tokenizer, framed like CLIP's so the text tower's
// pool-at-argmax still finds the end of the caption: the model's ids keep their values, and
// start/end of text are appended after them (SOT = pieces, EOT = pieces + 1, the largest id);
// padding is 0. The text tower's vocab_size must be vocab_size() = pieces + 2.
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "slipstream/data/text/token_framing.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace slipstream {

class SentencePieceTokenizer {
 public:
  explicit SentencePieceTokenizer(const std::string& model_path);
  ~SentencePieceTokenizer();

  int64_t pieces() const;  // the model's own vocabulary
  int64_t start_of_text() const { return pieces(); }
  int64_t end_of_text() const { return pieces() + 1; }
  int64_t vocab_size() const { return pieces() + 2; }

  std::vector<int64_t> encode(const std::string& text) const;  // the model's ids, no SOT/EOT
  std::string decode(const std::vector<int64_t>& ids) const;   // SOT/EOT/padding are skipped
  std::vector<int64_t> frame(const std::string& text, int64_t context_length = 77,
                             TruncateMode mode = TruncateMode::kSlip) const;
  at::Tensor tokenize(const std::vector<std::string>& texts, int64_t context_length = 77,
                      TruncateMode mode = TruncateMode::kSlip) const;  // [N, context_length] int64

 private:
  std::string path_;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
};

struct SentencePieceTrainingOptions {
  std::vector<std::string> input_files;  // one caption per line
  std::string model_prefix;              // writes <prefix>.model and <prefix>.vocab
  int64_t vocab_size = 8000;
  std::string model_type = "unigram";    // unigram | bpe | word | char
  double character_coverage = 0.9995;
  int64_t input_sentence_size = 2'000'000;  // captions sampled for training (0: all)
  uint64_t seed = 0;
};

// Trains a SentencePiece model; throws ConfigError/FileFormatError with the trainer's message.
void train_sentencepiece(const SentencePieceTrainingOptions& options);

}  // namespace slipstream
