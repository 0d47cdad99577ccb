// Tokenizer parity: ClipTokenizer against open_clip's SimpleTokenizer, and the cleaning steps
// against ftfy.fix_text and html.unescape, on tests/fixtures/tokenizer_corpus.jsonl.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "parity/parity_data.h"
#include "slipstream/data/text/clip_tokenizer.h"
#include "slipstream/data/text/text_cleaning.h"

namespace slipstream {
namespace {

nlohmann::json reference() {
  std::ifstream in(testing::parity_path("tokenizer.json"));
  if (!in) throw std::runtime_error("tokenizer.json missing: run the parity_references test first");
  return nlohmann::json::parse(in);
}

TEST(ParityTokenizer, TokenForTokenEqualToOpenClip) {
  const nlohmann::json ref = reference();
  const ClipTokenizer tokenizer(ref.at("bpe").get<std::string>());
  int rows = 0, equal_ids = 0, equal_slip = 0, equal_keep = 0, equal_clean = 0, equal_fix = 0, equal_html = 0;
  for (const auto& row : ref.at("rows")) {
    const std::string text = row.at("text").get<std::string>();
    const std::string shown = nlohmann::json(text).dump();
    ++rows;
    equal_fix += fix_text(text) == row.at("fix_text").get<std::string>();
    EXPECT_EQ(fix_text(text), row.at("fix_text").get<std::string>()) << "ftfy.fix_text of " << shown;
    equal_html += html_unescape(text) == row.at("html_unescape").get<std::string>();
    EXPECT_EQ(html_unescape(text), row.at("html_unescape").get<std::string>()) << "html.unescape of " << shown;
    equal_clean += clean_caption(text) == row.at("clean").get<std::string>();
    EXPECT_EQ(clean_caption(text), row.at("clean").get<std::string>()) << "cleaning of " << shown;
    const auto ids = tokenizer.encode(text);
    equal_ids += ids == row.at("ids").get<std::vector<int64_t>>();
    EXPECT_EQ(ids, row.at("ids").get<std::vector<int64_t>>()) << "BPE ids of " << shown;
    const auto slip = tokenizer.frame(text, 77, TruncateMode::kSlip);
    equal_slip += slip == row.at("slip").get<std::vector<int64_t>>();
    EXPECT_EQ(slip, row.at("slip").get<std::vector<int64_t>>()) << "SLIP framing of " << shown;
    const auto keep = tokenizer.frame(text, 77, TruncateMode::kKeepEot);
    equal_keep += keep == row.at("keep_eot").get<std::vector<int64_t>>();
    EXPECT_EQ(keep, row.at("keep_eot").get<std::vector<int64_t>>()) << "open_clip framing of " << shown;
  }
  std::printf("[parity] tokenizer on %d captions: ids %d/%d, SLIP framing %d/%d, open_clip framing %d/%d equal\n",
              rows, equal_ids, rows, equal_slip, rows, equal_keep, rows);
  std::printf("[parity] caption cleaning: open_clip clean %d/%d, ftfy.fix_text %d/%d, html.unescape %d/%d equal\n",
              equal_clean, rows, equal_fix, rows, equal_html, rows);
  EXPECT_GE(rows, 40);
}

}  // namespace
}  // namespace slipstream
