// CLIP's byte-level BPE tokenizer (OpenAI CLIP / open_clip SimpleTokenizer), token for token:
// clean the caption, split it with CLIP's pattern over Unicode letter and number classes, map
// UTF-8 bytes to BPE symbols, merge by rank, and frame with <start_of_text> ... <end_of_text>.
#pragma once
#include <ATen/core/Tensor.h>

#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "slipstream/data/text/token_framing.h"

namespace slipstream {

class ClipTokenizer {
 public:
  static constexpr int64_t kVocabSize = 49408;
  static constexpr int64_t kStartOfText = 49406;
  static constexpr int64_t kEndOfText = 49407;

  // bpe_path: CLIP's bpe_simple_vocab_16e6.txt.gz (gzip) or its uncompressed text.
  explicit ClipTokenizer(const std::string& bpe_path);

  // BPE ids of a caption, without SOT/EOT.
  std::vector<int64_t> encode(const std::string& text) const;
  // Ids back to text ("</w>" ends a word); unknown ids throw.
  std::string decode(const std::vector<int64_t>& ids) const;
  // [N, context_length] int64: SOT, ids, EOT, zero padding, truncated as `mode` says.
  at::Tensor tokenize(const std::vector<std::string>& texts, int64_t context_length = 77,
                      TruncateMode mode = TruncateMode::kSlip) const;
  // One caption's framed and truncated ids, without padding.
  std::vector<int64_t> frame(const std::string& text, int64_t context_length = 77,
                             TruncateMode mode = TruncateMode::kSlip) const;

  // The vocabulary in id order (the two special tokens last, as "<start_of_text>" and
  // "<end_of_text>", open_clip's names) and the merges in rank order: what a tokenizer file for
  // another library (transformers' vocab.json and merges.txt) is written from.
  const std::vector<std::string>& vocabulary() const { return decoder_; }
  const std::vector<std::pair<std::string, std::string>>& merges() const { return merges_; }

  // The pieces CLIP's pattern cuts a cleaned caption into (exposed for tests).
  static std::vector<std::string> split(const std::string& cleaned);

 private:
  // One piece of the split (raw UTF-8 bytes) as merged BPE symbols, each ending "</w>" at the word end.
  std::vector<std::string> bpe(const std::string& piece) const;

  std::vector<std::string> byte_symbol_;  // byte -> its BPE symbol (UTF-8)
  std::unordered_map<std::string, uint8_t> symbol_byte_;
  std::unordered_map<std::string, int64_t> encoder_;
  std::vector<std::string> decoder_;
  std::vector<std::pair<std::string, std::string>> merges_;
  std::unordered_map<std::string, int32_t> merge_rank_;  // "first second" -> rank
  mutable std::shared_mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;  // piece -> ids
};

}  // namespace slipstream
