#include "slipstream/data/text/wordnet.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

constexpr const char* kNames[] = {"noun", "verb", "adj", "adv"};

// WordNet's detachment rules (morphy), per part of speech: suffix -> replacement.
const std::vector<std::pair<std::string, std::string>> kRules[] = {
    {{"s", ""}, {"ses", "s"}, {"xes", "x"}, {"zes", "z"}, {"ches", "ch"}, {"shes", "sh"}, {"men", "man"}, {"ies", "y"}},
    {{"s", ""}, {"ies", "y"}, {"es", "e"}, {"es", ""}, {"ed", "e"}, {"ed", ""}, {"ing", "e"}, {"ing", ""}},
    {{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}},
    {}};

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw FileFormatError(path, "cannot open WordNet's database (install Debian's wordnet-base, or pass its folder)");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

WordNet::WordNet(const std::string& folder) : folder_(folder) {
  for (int pos = 0; pos < kPartsOfSpeech; ++pos) {
    const std::string index_path = folder + "/index." + kNames[pos];
    std::istringstream index(read_whole(index_path));
    std::string line;
    while (std::getline(index, line)) {
      if (line.empty() || line[0] == ' ') continue;  // the licence header
      std::istringstream fields(line);
      std::vector<std::string> tokens;
      for (std::string token; fields >> token;) tokens.push_back(token);
      if (tokens.size() < 4) throw FileFormatError(index_path, "malformed line '" + line.substr(0, 60) + "'");
      const int64_t synsets = std::stoll(tokens[2]);
      if (synsets < 1 || static_cast<size_t>(synsets) + 4 > tokens.size()) {
        throw FileFormatError(index_path, "malformed line '" + line.substr(0, 60) + "'");
      }
      std::vector<int64_t>& offsets = index_[pos][tokens[0]];
      for (size_t i = tokens.size() - static_cast<size_t>(synsets); i < tokens.size(); ++i) offsets.push_back(std::stoll(tokens[i]));
    }
    std::istringstream exceptions(read_whole(folder + "/" + kNames[pos] + ".exc"));
    while (std::getline(exceptions, line)) {
      std::istringstream fields(line);
      std::string inflected, base;
      fields >> inflected;
      while (fields >> base) exceptions_[pos][inflected].push_back(base);
    }
    data_[pos] = read_whole(folder + "/data." + kNames[pos]);
  }
}

size_t WordNet::lemma_count() const {
  size_t total = 0;
  for (const auto& index : index_) total += index.size();
  return total;
}

std::vector<std::string> WordNet::synonyms(const std::string& word) const {
  std::set<std::string> found;
  for (int pos = 0; pos < kPartsOfSpeech; ++pos) {
    std::vector<std::string> forms = {word};
    const auto exception = exceptions_[pos].find(word);
    if (exception != exceptions_[pos].end()) forms.insert(forms.end(), exception->second.begin(), exception->second.end());
    for (const auto& [suffix, replacement] : kRules[pos]) {
      if (ends_with(word, suffix)) forms.push_back(word.substr(0, word.size() - suffix.size()) + replacement);
    }
    std::set<int64_t> offsets;
    for (const std::string& form : forms) {
      const auto entry = index_[pos].find(form);
      if (entry != index_[pos].end()) offsets.insert(entry->second.begin(), entry->second.end());
    }
    for (const int64_t offset : offsets) {
      // "offset lex_filenum ss_type w_cnt(hex) word lex_id [word lex_id ...] ..."
      if (static_cast<size_t>(offset) >= data_[pos].size()) {
        throw FileFormatError(folder_ + "/data." + kNames[pos], "no synset at offset " + std::to_string(offset));
      }
      const size_t end = data_[pos].find('\n', static_cast<size_t>(offset));
      std::istringstream fields(data_[pos].substr(static_cast<size_t>(offset), end - static_cast<size_t>(offset)));
      std::string synset_offset, lex_filenum, type, count;
      fields >> synset_offset >> lex_filenum >> type >> count;
      const int64_t words = std::stoll(count, nullptr, 16);
      for (int64_t w = 0; w < words; ++w) {
        std::string lemma, lex_id;
        fields >> lemma >> lex_id;
        lemma = lemma.substr(0, lemma.find('('));  // adjective markers: "(a)", "(p)", "(ip)"
        std::string cleaned;
        for (char c : lemma) {
          if (c == '_' || c == '-') c = ' ';
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
          if ((c >= 'a' && c <= 'z') || c == ' ') cleaned += c;
        }
        if (!cleaned.empty()) found.insert(cleaned);
      }
    }
  }
  found.erase(word);
  return {found.begin(), found.end()};
}

}  // namespace slipstream
