#include "slipstream/data/text/sentencepiece_tokenizer.h"

#include <ATen/ATen.h>
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <filesystem>

#include "slipstream/core/error.h"

namespace slipstream {

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& model_path)
    : path_(model_path), processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {
  const auto status = processor_->Load(model_path);
  if (!status.ok()) throw FileFormatError(model_path, "not a SentencePiece model: " + status.ToString());
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

int64_t SentencePieceTokenizer::pieces() const { return processor_->GetPieceSize(); }

std::vector<int64_t> SentencePieceTokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  const auto status = processor_->Encode(text, &ids);
  if (!status.ok()) throw Error(path_ + ": encoding failed: " + status.ToString());
  return std::vector<int64_t>(ids.begin(), ids.end());
}

std::string SentencePieceTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::vector<int> model_ids;
  for (int64_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      throw Error(path_ + ": id " + std::to_string(id) + " is outside [0, " + std::to_string(vocab_size()) + ")");
    }
    if (id != 0 && id < pieces()) model_ids.push_back(static_cast<int>(id));
  }
  std::string text;
  const auto status = processor_->Decode(model_ids, &text);
  if (!status.ok()) throw Error(path_ + ": decoding failed: " + status.ToString());
  return text;
}

std::vector<int64_t> SentencePieceTokenizer::frame(const std::string& text, int64_t context_length,
                                                   TruncateMode mode) const {
  return frame_tokens(encode(text), start_of_text(), end_of_text(), context_length, mode);
}

at::Tensor SentencePieceTokenizer::tokenize(const std::vector<std::string>& texts, int64_t context_length,
                                            TruncateMode mode) const {
  std::vector<std::vector<int64_t>> rows;
  rows.reserve(texts.size());
  for (const auto& text : texts) rows.push_back(frame(text, context_length, mode));
  return pad_token_rows(rows, context_length);  // [N, context_length]
}

void train_sentencepiece(const SentencePieceTrainingOptions& options) {
  if (options.input_files.empty()) throw ConfigError("train-tokenizer: no input files given");
  for (const auto& file : options.input_files) {
    if (!std::filesystem::is_regular_file(file)) throw FileFormatError(file, "no such caption file");
  }
  if (options.model_prefix.empty()) throw ConfigError("train-tokenizer: --model-prefix is required");
  if (options.vocab_size < 8) throw ConfigError("train-tokenizer: --vocab-size must be at least 8");
  std::string inputs;
  for (const auto& file : options.input_files) inputs += (inputs.empty() ? "" : ",") + file;
  // The trainer takes its settings as one flag string: paths must not break it apart.
  for (const std::string& path : std::vector<std::string>{inputs, options.model_prefix}) {
    if (path.find_first_of(" \t\n") != std::string::npos) {
      throw ConfigError("train-tokenizer: paths may not contain white space ('" + path + "')");
    }
  }
  const std::vector<std::string> model_types = {"unigram", "bpe", "word", "char"};
  if (std::find(model_types.begin(), model_types.end(), options.model_type) == model_types.end()) {
    throw ConfigError("train-tokenizer: --model-type must be unigram, bpe, word or char (got '" +
                      options.model_type + "')");
  }
  // The trainer's flags; input_format=text reads one sentence per line. One thread and a fixed
  // seed make the model reproducible.
  const std::string args = "--input=" + inputs + " --model_prefix=" + options.model_prefix +
                           " --vocab_size=" + std::to_string(options.vocab_size) +
                           " --model_type=" + options.model_type +
                           " --character_coverage=" + std::to_string(options.character_coverage) +
                           " --input_sentence_size=" + std::to_string(options.input_sentence_size) +
                           " --shuffle_input_sentence=true --num_threads=1 --minloglevel=1";
  sentencepiece::SetRandomGeneratorSeed(static_cast<unsigned int>(options.seed));
  const auto status = sentencepiece::SentencePieceTrainer::Train(args);
  if (!status.ok()) throw ConfigError("train-tokenizer on " + inputs + ": " + status.ToString());
}

}  // namespace slipstream
