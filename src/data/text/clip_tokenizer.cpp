#include "slipstream/data/text/clip_tokenizer.h"

#include <ATen/ATen.h>
#include <zlib.h>

#include <algorithm>
#include <climits>

#include "slipstream/core/error.h"
#include "slipstream/data/text/text_cleaning.h"
#include "slipstream/data/text/unicode.h"

namespace slipstream {
namespace {

constexpr int kMergeCount = 49152 - 256 - 2;  // lines 1..48894 of the merges file
const char* const kSpecialTokens[] = {"<start_of_text>", "<end_of_text>"};
const char* const kContractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};

std::string read_maybe_gzipped(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");  // reads plain files unchanged too
  if (file == nullptr) throw FileFormatError(path, "cannot open BPE merges file");
  std::string content;
  char buffer[1 << 16];
  int read = 0;
  while ((read = gzread(file, buffer, sizeof(buffer))) > 0) content.append(buffer, static_cast<size_t>(read));
  int error = Z_OK;
  const char* message = gzerror(file, &error);
  const std::string problem = (read < 0 || (error != Z_OK && error != Z_STREAM_END)) ? message : "";
  gzclose(file);
  if (!problem.empty()) throw FileFormatError(path, "corrupt gzip data: " + problem);
  return content;
}

// OpenAI's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards.
// Returns the bytes in vocabulary order and each byte's code point.
std::pair<std::vector<int>, std::vector<char32_t>> byte_to_code_point() {
  std::vector<int> order;
  for (int b = '!'; b <= '~'; ++b) order.push_back(b);
  for (int b = 0xA1; b <= 0xAC; ++b) order.push_back(b);
  for (int b = 0xAE; b <= 0xFF; ++b) order.push_back(b);
  std::vector<char32_t> code_point(256, 0);
  for (int b : order) code_point[b] = static_cast<char32_t>(b);
  int next = 0;
  for (int b = 0; b < 256; ++b) {
    if (std::find(order.begin(), order.end(), b) == order.end()) {
      order.push_back(b);
      code_point[b] = static_cast<char32_t>(256 + next++);
    }
  }
  return {order, code_point};
}

// The pattern is case-insensitive; on lower-cased text only U+017F (long s) still folds, to 's'.
char32_t fold(char32_t c) { return c == 0x017F ? U's' : c; }

bool starts_with_at(const std::u32string& text, size_t position, const char* literal) {
  for (size_t k = 0; literal[k] != '\0'; ++k) {
    if (position + k >= text.size() || fold(text[position + k]) != static_cast<char32_t>(literal[k])) return false;
  }
  return true;
}

size_t literal_length(const char* literal) { return std::char_traits<char>::length(literal); }

}  // namespace

ClipTokenizer::ClipTokenizer(const std::string& bpe_path) {
  const std::string content = read_maybe_gzipped(bpe_path);
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(kMergeCount);
  size_t line_start = content.find('\n');  // line 0 is a version header
  while (line_start != std::string::npos && static_cast<int>(merges.size()) < kMergeCount) {
    const size_t begin = line_start + 1;
    if (begin >= content.size()) break;  // a final newline ends the list
    const size_t end = std::min(content.find('\n', begin), content.size());
    const std::string line = content.substr(begin, end - begin);
    const size_t space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 >= line.size()) {
      throw FileFormatError(bpe_path, "line " + std::to_string(merges.size() + 2) + " is not a merge 'first second'");
    }
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    line_start = end < content.size() ? end : std::string::npos;
  }
  if (static_cast<int>(merges.size()) != kMergeCount) {
    throw FileFormatError(bpe_path, "holds " + std::to_string(merges.size()) + " merges, expected " +
                                        std::to_string(kMergeCount) + " (is it CLIP's bpe_simple_vocab_16e6?)");
  }

  const auto [order, code_point] = byte_to_code_point();
  byte_symbol_.resize(256);
  for (int b = 0; b < 256; ++b) {
    byte_symbol_[b] = unicode::to_utf8(std::u32string(1, code_point[b]));
    symbol_byte_[byte_symbol_[b]] = static_cast<uint8_t>(b);
  }
  for (int b : order) decoder_.push_back(byte_symbol_[b]);
  for (int b : order) decoder_.push_back(byte_symbol_[b] + "</w>");
  for (const auto& [first, second] : merges) decoder_.push_back(first + second);
  for (const char* special : kSpecialTokens) decoder_.push_back(special);
  for (size_t id = 0; id < decoder_.size(); ++id) encoder_[decoder_[id]] = static_cast<int64_t>(id);
  merges_ = merges;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    merge_rank_[merges[rank].first + " " + merges[rank].second] = static_cast<int32_t>(rank);
  }
  if (static_cast<int64_t>(decoder_.size()) != kVocabSize) {
    throw FileFormatError(bpe_path, "vocabulary has " + std::to_string(decoder_.size()) + " entries, expected 49408");
  }
}

std::vector<std::string> ClipTokenizer::split(const std::string& cleaned) {
  // <start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
  const std::u32string text = unicode::to_utf32(cleaned);
  std::vector<std::string> pieces;
  size_t i = 0;
  auto emit = [&](size_t begin, size_t end) { pieces.push_back(unicode::to_utf8(text.substr(begin, end - begin))); };
  while (i < text.size()) {
    const char32_t c = text[i];
    const char* literal = nullptr;
    for (const char* special : kSpecialTokens) {
      if (starts_with_at(text, i, special)) literal = special;
    }
    for (const char* contraction : kContractions) {
      if (literal == nullptr && starts_with_at(text, i, contraction)) literal = contraction;
    }
    if (literal != nullptr) {
      emit(i, i + literal_length(literal));
      i += literal_length(literal);
    } else if (unicode::is_letter(c)) {
      size_t end = i + 1;
      while (end < text.size() && unicode::is_letter(text[end])) ++end;
      emit(i, end);
      i = end;
    } else if (unicode::is_number(c)) {
      emit(i, i + 1);
      ++i;
    } else if (unicode::is_white_space(c)) {
      ++i;  // no alternative matches white space: the scan moves on
    } else {
      size_t end = i + 1;
      while (end < text.size() && !unicode::is_white_space(text[end]) && !unicode::is_letter(text[end]) &&
             !unicode::is_number(text[end])) {
        ++end;
      }
      emit(i, end);
      i = end;
    }
  }
  return pieces;
}

std::vector<std::string> ClipTokenizer::bpe(const std::string& piece) const {
  std::vector<std::string> word;
  for (unsigned char byte : piece) word.push_back(byte_symbol_[byte]);
  word.back() += "</w>";
  while (word.size() > 1) {
    int32_t best_rank = INT32_MAX;
    size_t best = 0;
    for (size_t k = 0; k + 1 < word.size(); ++k) {
      auto found = merge_rank_.find(word[k] + " " + word[k + 1]);
      if (found != merge_rank_.end() && found->second < best_rank) {
        best_rank = found->second;
        best = k;
      }
    }
    if (best_rank == INT32_MAX) break;
    const std::string first = word[best], second = word[best + 1];
    std::vector<std::string> merged;
    merged.reserve(word.size());
    for (size_t k = 0; k < word.size(); ++k) {
      if (k + 1 < word.size() && word[k] == first && word[k + 1] == second) {
        merged.push_back(first + second);
        ++k;
      } else {
        merged.push_back(word[k]);
      }
    }
    word = std::move(merged);
  }
  return word;
}

std::vector<int64_t> ClipTokenizer::encode(const std::string& text) const {
  std::vector<int64_t> ids;
  for (const std::string& piece : split(clean_caption(text))) {
    if (piece == kSpecialTokens[0] || piece == kSpecialTokens[1]) {
      ids.push_back(encoder_.at(piece));
      continue;
    }
    {
      std::shared_lock<std::shared_mutex> lock(cache_mutex_);  // loader threads read the cache together
      auto cached = cache_.find(piece);
      if (cached != cache_.end()) {
        ids.insert(ids.end(), cached->second.begin(), cached->second.end());
        continue;
      }
    }
    std::vector<int64_t> piece_ids;
    for (const std::string& symbol : bpe(piece)) {
      auto found = encoder_.find(symbol);
      if (found == encoder_.end()) throw Error("ClipTokenizer: BPE produced an unknown symbol '" + symbol + "'");
      piece_ids.push_back(found->second);
    }
    ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
    std::unique_lock<std::shared_mutex> lock(cache_mutex_);
    if (cache_.size() > 1'000'000) cache_.clear();  // bound memory on huge corpora
    cache_.emplace(piece, std::move(piece_ids));
  }
  return ids;
}

std::string ClipTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string symbols;
  for (int64_t id : ids) {
    if (id < 0 || id >= static_cast<int64_t>(decoder_.size())) {
      throw Error("ClipTokenizer::decode: id " + std::to_string(id) + " is outside [0, 49408)");
    }
    symbols += decoder_[static_cast<size_t>(id)];
  }
  std::string bytes;
  for (char32_t c : unicode::to_utf32(symbols)) {
    auto found = symbol_byte_.find(unicode::to_utf8(std::u32string(1, c)));
    bytes += found != symbol_byte_.end() ? std::string(1, static_cast<char>(found->second))
                                          : unicode::to_utf8(std::u32string(1, c));  // special-token letters
  }
  std::string text = unicode::to_utf8(unicode::to_utf32(bytes));  // invalid UTF-8 -> U+FFFD
  std::string out;
  for (size_t k = 0; k < text.size();) {
    if (text.compare(k, 4, "</w>") == 0) {
      out += ' ';
      k += 4;
    } else {
      out += text[k++];
    }
  }
  return out;
}

std::vector<int64_t> ClipTokenizer::frame(const std::string& text, int64_t context_length, TruncateMode mode) const {
  return frame_tokens(encode(text), kStartOfText, kEndOfText, context_length, mode);
}

at::Tensor ClipTokenizer::tokenize(const std::vector<std::string>& texts, int64_t context_length,
                                   TruncateMode mode) const {
  std::vector<std::vector<int64_t>> rows;
  rows.reserve(texts.size());
  for (const auto& text : texts) rows.push_back(frame(text, context_length, mode));
  return pad_token_rows(rows, context_length);  // [N, context_length]
}

}  // namespace slipstream
