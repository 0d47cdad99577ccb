// ClipTokenizer and caption cleaning: splitting, truncation modes, decoding, cleaning rules, and
// clear errors for missing or corrupt merges files.
#include <gtest/gtest.h>
#include <zlib.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "slipstream/core/error.h"
#include "slipstream/data/text/bpe_location.h"
#include "slipstream/data/text/clip_tokenizer.h"
#include "slipstream/data/text/text_cleaning.h"
#include "test_paths.h"

namespace slipstream {
namespace {

std::string bpe_path() {
  const std::string path = SLIPSTREAM_TEST_BPE;  // ../shared/data's copy, or open_clip's (tests/CMakeLists.txt)
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error("CLIP's BPE merges '" + path + "' are missing (pass -DSLIPSTREAM_TEST_DATA_DIR=...)");
  }
  return path;
}

const ClipTokenizer& tokenizer() {
  static const ClipTokenizer instance(bpe_path());
  return instance;
}

TEST(ClipTokenizer, SplitsLikeClipsPattern) {
  EXPECT_EQ(ClipTokenizer::split("don't stop"), (std::vector<std::string>{"don", "'t", "stop"}));
  EXPECT_EQ(ClipTokenizer::split("wow!!! 2024"), (std::vector<std::string>{"wow", "!!!", "2", "0", "2", "4"}));
  EXPECT_EQ(ClipTokenizer::split("<start_of_text>hi"), (std::vector<std::string>{"<start_of_text>", "hi"}));
  EXPECT_EQ(ClipTokenizer::split("猫咪 🐶!"), (std::vector<std::string>{"猫咪", "🐶!"}));
  EXPECT_EQ(ClipTokenizer::split("'sam"), (std::vector<std::string>{"'s", "am"}));
}

TEST(ClipTokenizer, FramesWithStartAndEndOfText) {
  const std::vector<int64_t> ids = tokenizer().frame("a photo of a cat");
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), ClipTokenizer::kStartOfText);
  EXPECT_EQ(ids.back(), ClipTokenizer::kEndOfText);
  EXPECT_EQ(ids.size(), tokenizer().encode("a photo of a cat").size() + 2);
  // Lower-casing and whitespace cleaning happen before BPE.
  EXPECT_EQ(tokenizer().encode("  A   PHOTO of a cat "), tokenizer().encode("a photo of a cat"));
}

TEST(ClipTokenizer, TruncationModes) {
  const std::string caption(400, 'x');
  std::string words;
  for (int i = 0; i < 100; ++i) words += "dog ";
  const at::Tensor slip = tokenizer().tokenize({words}, 77, TruncateMode::kSlip);
  const at::Tensor keep = tokenizer().tokenize({words}, 77, TruncateMode::kKeepEot);
  EXPECT_EQ(slip.sizes(), (std::vector<int64_t>{1, 77}));
  EXPECT_NE(slip[0][76].item<int64_t>(), ClipTokenizer::kEndOfText);  // SLIP: the EOT is cut off
  EXPECT_EQ(keep[0][76].item<int64_t>(), ClipTokenizer::kEndOfText);  // open_clip: EOT at the end
  EXPECT_TRUE(at::equal(slip.slice(1, 0, 76), keep.slice(1, 0, 76)));
  // Short captions are padded with zeros and identical in both modes.
  const at::Tensor short_slip = tokenizer().tokenize({"a dog"}, 77, TruncateMode::kSlip);
  EXPECT_TRUE(at::equal(short_slip, tokenizer().tokenize({"a dog"}, 77, TruncateMode::kKeepEot)));
  EXPECT_EQ(short_slip[0].slice(0, 4).abs().sum().item<int64_t>(), 0);
  EXPECT_EQ(parse_truncate_mode("keep-eot"), TruncateMode::kKeepEot);
  EXPECT_THROW(parse_truncate_mode("middle"), ConfigError);
}

// Decoding gives back the cleaned caption's pieces, each followed by a space (its "</w>").
TEST(ClipTokenizer, DecodeGivesBackThePieces) {
  for (const std::string text : {"a photo of a cat", "東京タワーの夜景", "I ❤️ my 🐶 and 🐱!!", "rock'n'roll 1,000"}) {
    std::string pieces;
    for (const auto& piece : ClipTokenizer::split(clean_caption(text))) pieces += piece + " ";
    EXPECT_EQ(tokenizer().decode(tokenizer().encode(text)), pieces) << text;
  }
  EXPECT_EQ(tokenizer().decode(tokenizer().encode("rock'n'roll")), "rock ' n ' roll ");
  EXPECT_THROW(tokenizer().decode({49408}), Error);
}

TEST(ClipTokenizer, EveryIdIsInTheVocabulary) {
  const at::Tensor tokens = tokenizer().tokenize({"ＦＵＬＬ width", "&amp;amp; entities", "emoji🙂glued"});
  EXPECT_GE(tokens.min().item<int64_t>(), 0);
  EXPECT_LT(tokens.max().item<int64_t>(), ClipTokenizer::kVocabSize);
}

TEST(CaptionCleaning, FollowsFtfyAndHtmlUnescape) {
  EXPECT_EQ(clean_caption("&amp;amp;amp; Tom &amp; Jerry"), "& tom & jerry");
  EXPECT_EQ(clean_caption("“Hello” ‘world’"), "\"hello\" 'world'");
  EXPECT_EQ(clean_caption("ＦＵＬＬ　ＷＩＤＴＨ"), "full width");
  EXPECT_EQ(clean_caption("ﬁne ﬂower"), "fine flower");
  EXPECT_EQ(clean_caption(" a\t\n b\u00a0c "), "a b c");
  EXPECT_EQ(clean_caption("cafe\u0301"), "caf\u00e9");  // NFC
  EXPECT_EQ(clean_caption("ΣΟΦΙΑΣ"), "σοφιας");            // final sigma
  EXPECT_EQ(html_unescape("&amp &lt;x&gt; &#39; &#x1F600; &notit; &#0;"), "& <x> ' 😀 ¬it; \uFFFD");
  // A line holding '<' keeps ftfy from unescaping; open_clip's two html.unescape passes still run.
  EXPECT_EQ(fix_text("<b> &amp;amp;"), "<b> &amp;amp;");
  EXPECT_EQ(clean_caption("<b> &amp;amp;amp;"), "<b> &amp;");
}

TEST(ClipTokenizer, MissingOrCorruptMergesFileIsAClearError) {
  testing::TemporaryFolder folder;
  EXPECT_THROW(ClipTokenizer(folder.file("missing.txt.gz")), FileFormatError);
  testing::write_bytes(folder.file("short.txt"), "#version: 0.2\na b\nc d\n");
  try {
    ClipTokenizer tokenizer(folder.file("short.txt"));
    FAIL();
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("holds 2 merges, expected 48894"), std::string::npos) << e.what();
  }
  // A gzip stream cut in the middle.
  const std::string bytes = testing::read_bytes(bpe_path());
  testing::write_bytes(folder.file("cut.txt.gz"), bytes.substr(0, bytes.size() / 2));
  EXPECT_THROW(ClipTokenizer(folder.file("cut.txt.gz")), FileFormatError);
}

}  // namespace
}  // namespace slipstream

// Where the BPE merges come from when --bpe is not given: the flag, the checkpoint's record,
// assets/ ($SLIPSTREAM_ASSETS first), then a Python environment's packaged copy.
TEST(BpeLocation, FlagThenRecordThenAssetsAndEachSaysWhere) {
  namespace fs = std::filesystem;
  const fs::path folder = fs::temp_directory_path() / ("slipstream_bpe_" + std::to_string(::getpid()));
  fs::create_directories(folder / "assets");
  fs::copy_file(SLIPSTREAM_TEST_BPE, folder / "assets" / "bpe_simple_vocab_16e6.txt.gz");
  fs::copy_file(SLIPSTREAM_TEST_BPE, folder / "recorded.txt.gz");

  EXPECT_EQ(slipstream::find_clip_bpe(SLIPSTREAM_TEST_BPE).found_by, "--bpe");
  EXPECT_THROW(slipstream::find_clip_bpe((folder / "missing.gz").string()), slipstream::ConfigError);  // no fallback
  const slipstream::BpeLocation recorded = slipstream::find_clip_bpe("", (folder / "recorded.txt.gz").string());
  EXPECT_EQ(recorded.path, (folder / "recorded.txt.gz").string());
  EXPECT_EQ(recorded.found_by, "the checkpoint's record");

  ::setenv("SLIPSTREAM_ASSETS", (folder / "assets").c_str(), 1);
  // a record that no longer exists falls through to assets/
  const slipstream::BpeLocation assets = slipstream::find_clip_bpe("", (folder / "moved.txt.gz").string());
  EXPECT_EQ(assets.path, (folder / "assets" / "bpe_simple_vocab_16e6.txt.gz").string());
  EXPECT_EQ(assets.found_by, "assets/");
  EXPECT_NE(assets.describe().find("(assets/)"), std::string::npos);
  ::unsetenv("SLIPSTREAM_ASSETS");
  fs::remove_all(folder);
}
