// WordNet lookups from Debian's wordnet-base database and DeCLIP's EDA caption view on fixed
// seeds: what each operation may and may not do to a caption, and that a seed repeats its result.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "slipstream/core/error.h"
#include "slipstream/data/text/easy_data_augmentation.h"

namespace slipstream {
namespace {

std::shared_ptr<const WordNet> wordnet() {
  static const auto loaded = std::make_shared<const WordNet>();  // /usr/share/wordnet (scripts/setup.sh installs it)
  return loaded;
}

std::vector<std::string> words_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

TEST(WordNet, SynonymsComeFromEverySynsetOfEveryBaseForm) {
  EXPECT_GT(wordnet()->lemma_count(), 140000u);  // WordNet 3.0: 147,306 lemma entries over 4 parts of speech
  const std::vector<std::string> dog = wordnet()->synonyms("dog");
  for (const char* expected : {"domestic dog", "canis familiaris", "andiron", "hotdog", "frank", "chase"}) {
    EXPECT_TRUE(contains(dog, expected)) << expected;
  }
  EXPECT_FALSE(contains(dog, "dog"));
  // Inflections reach their lemmas: plural nouns (detachment rule), irregular forms (exception list).
  EXPECT_TRUE(contains(wordnet()->synonyms("triangles"), "trigon"));
  EXPECT_TRUE(contains(wordnet()->synonyms("mice"), "computer mouse"));
  EXPECT_TRUE(contains(wordnet()->synonyms("red"), "crimson"));
  EXPECT_TRUE(wordnet()->synonyms("qzxv").empty());
  EXPECT_THROW(WordNet("/nonexistent"), FileFormatError);
}

TEST(EasyDataAugmentation, EachOperationChangesTheCaptionAsEdaDoes) {
  const EasyDataAugmentation eda(wordnet());
  const std::string caption = "a small red triangle on a grey background";
  const std::vector<std::string> original = words_of(caption);
  std::map<std::string, int> outcomes;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    std::mt19937_64 rng(seed);
    // Synonym replacement: one distinct non-stop-word replaced everywhere by one of its synonyms.
    const std::string replaced = eda.synonym_replacement(caption, rng);
    int explanations = 0;
    for (const std::string& word : original) {
      if (EasyDataAugmentation::is_stop_word(word)) continue;
      for (const std::string& synonym : wordnet()->synonyms(word)) {
        std::vector<std::string> expected = original;
        std::replace(expected.begin(), expected.end(), word, synonym);
        std::string joined;
        for (const std::string& w : expected) joined += (joined.empty() ? "" : " ") + w;
        explanations += joined == replaced;
      }
    }
    EXPECT_GE(explanations, 1) << replaced;
    // Random swap: the same words, exactly two positions exchanged.
    std::mt19937_64 swap_rng(seed);
    const std::vector<std::string> swapped = words_of(eda.random_swap(caption, swap_rng));
    EXPECT_TRUE(std::is_permutation(swapped.begin(), swapped.end(), original.begin(), original.end()));
    int moved = 0;
    for (size_t i = 0; i < original.size(); ++i) moved += swapped[i] != original[i];
    EXPECT_TRUE(moved == 2 || moved == 0);  // 0 when the two words are equal ("a" ... "a")
    // Random deletion: an order-preserving subsequence.
    std::mt19937_64 delete_rng(seed);
    const std::vector<std::string> kept = words_of(eda.random_deletion(caption, delete_rng, 0.3));
    EXPECT_LE(kept.size(), original.size());
    size_t at = 0;
    for (const std::string& word : kept) {
      while (at < original.size() && original[at] != word) ++at;
      ASSERT_LT(at, original.size()) << "deletion reordered the words";
      ++at;
    }
    std::mt19937_64 any_rng(seed);
    ++outcomes[eda(caption, any_rng)];
  }
  EXPECT_GT(outcomes.size(), 20u);  // the three operations and their draws vary the caption
  // The same seed, the same view.
  std::mt19937_64 first(7), second(7);
  EXPECT_EQ(eda(caption, first), eda(caption, second));
  // Edge cases: one word stays; deleting everything leaves one word.
  std::mt19937_64 rng(1);
  EXPECT_EQ(eda.random_swap("triangle", rng), "triangle");
  EXPECT_EQ(eda.random_deletion("triangle", rng, 1.0), "triangle");
  EXPECT_EQ(words_of(eda.random_deletion("red blue green", rng, 1.0)).size(), 1u);
}

}  // namespace
}  // namespace slipstream
