// Princeton WordNet 3.0 read from its database files (Debian's wordnet-base installs them in
// /usr/share/wordnet): synonyms of a word as NLTK's wordnet.synsets(word) and EDA's
// get_synonyms see them. The word is reduced to its base forms per part of speech by WordNet's
// morphology (the .exc exception lists, then one pass of the detachment rules); every lemma of
// every synset of those forms is a synonym, lowercased, '_' and '-' as spaces, characters other
// than a-z and space dropped, the word itself excluded. Thread-safe after construction.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace slipstream {

class WordNet {
 public:
  // Reads index.{noun,verb,adj,adv}, data.* and *.exc from `folder`; FileFormatError naming a
  // missing or malformed file.
  explicit WordNet(const std::string& folder = "/usr/share/wordnet");
  std::vector<std::string> synonyms(const std::string& word) const;  // sorted, unique
  size_t lemma_count() const;  // index entries over all parts of speech

 private:
  static constexpr int kPartsOfSpeech = 4;  // noun, verb, adj, adv
  std::array<std::unordered_map<std::string, std::vector<int64_t>>, kPartsOfSpeech> index_;  // lemma -> synset offsets
  std::array<std::unordered_map<std::string, std::vector<std::string>>, kPartsOfSpeech> exceptions_;
  std::array<std::string, kPartsOfSpeech> data_;  // data.<pos>, whole; synset lines start at their offsets
  std::string folder_;
};

}  // namespace slipstream
