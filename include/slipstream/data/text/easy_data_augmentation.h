// EDA (Wei & Zou 2019) as DeCLIP applies it to a caption (textaugment's EDA): one of synonym
// replacement (n = 1), random swap (n = 1) or random deletion (p = 0.1), chosen uniformly. Words
// are the caption split on whitespace and are joined back with single spaces.
//   synonym replacement: the distinct non-stop-words in random order; the first with a WordNet
//     synonym has every occurrence replaced by one of its synonyms (uniform); n such words.
//   random swap: n times, two different random positions exchange their words (a caption of
//     one word stays as it is).
//   random deletion: each word is dropped with probability p; a one-word caption stays, and when
//     every word is dropped one random word remains.
// Stop words: NLTK's English list (textaugment's). Every draw comes from the caller's generator.
#pragma once
#include <memory>
#include <random>
#include <string>

#include "slipstream/data/text/wordnet.h"

namespace slipstream {

class EasyDataAugmentation {
 public:
  explicit EasyDataAugmentation(std::shared_ptr<const WordNet> wordnet);
  std::string operator()(const std::string& caption, std::mt19937_64& rng) const;  // one of the three
  std::string synonym_replacement(const std::string& caption, std::mt19937_64& rng, int n = 1) const;
  std::string random_swap(const std::string& caption, std::mt19937_64& rng, int n = 1) const;
  std::string random_deletion(const std::string& caption, std::mt19937_64& rng, double p = 0.1) const;
  static bool is_stop_word(const std::string& word);

 private:
  std::shared_ptr<const WordNet> wordnet_;
};

}  // namespace slipstream
