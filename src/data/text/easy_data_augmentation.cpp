#include "slipstream/data/text/easy_data_augmentation.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <unordered_set>
#include <vector>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

std::vector<std::string> split_words(const std::string& caption) {
  std::istringstream in(caption);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& word : words) out += (out.empty() ? "" : " ") + word;
  return out;
}

size_t uniform_index(size_t size, std::mt19937_64& rng) {
  return std::uniform_int_distribution<size_t>(0, size - 1)(rng);
}

}  // namespace

bool EasyDataAugmentation::is_stop_word(const std::string& word) {
  static const std::unordered_set<std::string> words = {
      "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "you're", "you've", "you'll", "you'd",
      "your", "yours", "yourself", "yourselves", "he", "him", "his", "himself", "she", "she's", "her", "hers",
      "herself", "it", "it's", "its", "itself", "they", "them", "their", "theirs", "themselves", "what", "which",
      "who", "whom", "this", "that", "that'll", "these", "those", "am", "is", "are", "was", "were", "be", "been",
      "being", "have", "has", "had", "having", "do", "does", "did", "doing", "a", "an", "the", "and", "but", "if",
      "or", "because", "as", "until", "while", "of", "at", "by", "for", "with", "about", "against", "between",
      "into", "through", "during", "before", "after", "above", "below", "to", "from", "up", "down", "in", "out",
      "on", "off", "over", "under", "again", "further", "then", "once", "here", "there", "when", "where", "why",
      "how", "all", "any", "both", "each", "few", "more", "most", "other", "some", "such", "no", "nor", "not",
      "only", "own", "same", "so", "than", "too", "very", "s", "t", "can", "will", "just", "don", "don't",
      "should", "should've", "now", "d", "ll", "m", "o", "re", "ve", "y", "ain", "aren", "aren't", "couldn",
      "couldn't", "didn", "didn't", "doesn", "doesn't", "hadn", "hadn't", "hasn", "hasn't", "haven", "haven't",
      "isn", "isn't", "ma", "mightn", "mightn't", "mustn", "mustn't", "needn", "needn't", "shan", "shan't",
      "shouldn", "shouldn't", "wasn", "wasn't", "weren", "weren't", "won", "won't", "wouldn", "wouldn't"};
  return words.count(word) == 1;
}

EasyDataAugmentation::EasyDataAugmentation(std::shared_ptr<const WordNet> wordnet) : wordnet_(std::move(wordnet)) {
  if (!wordnet_) throw ConfigError("EasyDataAugmentation needs a WordNet");
}

std::string EasyDataAugmentation::operator()(const std::string& caption, std::mt19937_64& rng) const {
  switch (std::uniform_int_distribution<int>(0, 2)(rng)) {
    case 0: return synonym_replacement(caption, rng);
    case 1: return random_swap(caption, rng);
    default: return random_deletion(caption, rng);
  }
}

std::string EasyDataAugmentation::synonym_replacement(const std::string& caption, std::mt19937_64& rng, int n) const {
  std::vector<std::string> words = split_words(caption);
  std::vector<std::string> candidates;
  std::set<std::string> seen;
  for (const std::string& word : words) {
    if (!is_stop_word(word) && seen.insert(word).second) candidates.push_back(word);
  }
  std::shuffle(candidates.begin(), candidates.end(), rng);
  int replaced = 0;
  for (const std::string& candidate : candidates) {
    const std::vector<std::string> synonyms = wordnet_->synonyms(candidate);
    if (synonyms.empty()) continue;
    const std::string& synonym = synonyms[uniform_index(synonyms.size(), rng)];
    std::replace(words.begin(), words.end(), candidate, synonym);
    if (++replaced >= n) break;
  }
  return join_words(words);
}

std::string EasyDataAugmentation::random_swap(const std::string& caption, std::mt19937_64& rng, int n) const {
  std::vector<std::string> words = split_words(caption);
  if (words.size() < 2) return join_words(words);
  for (int i = 0; i < n; ++i) {
    const size_t first = uniform_index(words.size(), rng);
    size_t second = uniform_index(words.size() - 1, rng);
    if (second >= first) ++second;  // a different position, uniformly
    std::swap(words[first], words[second]);
  }
  return join_words(words);
}

std::string EasyDataAugmentation::random_deletion(const std::string& caption, std::mt19937_64& rng, double p) const {
  const std::vector<std::string> words = split_words(caption);
  if (words.size() <= 1) return join_words(words);
  std::vector<std::string> kept;
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (const std::string& word : words) {
    if (uniform(rng) > p) kept.push_back(word);
  }
  if (kept.empty()) return words[uniform_index(words.size(), rng)];
  return join_words(kept);
}

}  // namespace slipstream
