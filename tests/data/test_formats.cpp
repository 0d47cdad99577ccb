// The on-disk formats under the readers: metadata index, tar headers, zip members, .npy, idx,
// CSV/TSV and shard patterns. Each is read from files the Python standard tools wrote, and each
// damaged input must give a FileFormatError (or a reported problem), never a crash.
#include <gtest/gtest.h>

#include <fstream>

#include "data/corpora.h"
#include "slipstream/core/error.h"
#include "slipstream/data/formats/brace_expansion.h"
#include "slipstream/data/formats/delimited_text.h"
#include "slipstream/data/formats/file_bytes.h"
#include "slipstream/data/formats/idx_file.h"
#include "slipstream/data/formats/metadata_index.h"
#include "slipstream/data/formats/npy.h"
#include "slipstream/data/formats/tar_index.h"
#include "slipstream/data/formats/zip_archive.h"
#include "test_paths.h"

namespace slipstream {
namespace {

using testing::corpus_path;
using testing::expected_corpora;

TEST(MetadataIndex, RoundTripsThroughAFileAndChecksItsHeader) {
  testing::TemporaryFolder folder;
  MetadataIndexBuilder builder("cc3m");
  builder.add("images/a.jpg", {"first caption", "second, with ünïcode"});
  builder.add("images/b.jpg", {});
  builder.add(std::string("with\0nul", 8), {std::string(70000, 'x')});
  builder.write(folder.file("meta.idx"));

  const MetadataIndex index = MetadataIndex::open(folder.file("meta.idx"));
  ASSERT_EQ(index.size(), 3);
  EXPECT_EQ(index.corpus(), "cc3m");
  const MetadataEntry first = index.entry(0);
  EXPECT_EQ(first.key, "images/a.jpg");
  ASSERT_EQ(first.captions.size(), 2u);
  EXPECT_EQ(first.captions[1], "second, with ünïcode");
  EXPECT_TRUE(index.entry(1).captions.empty());
  EXPECT_EQ(index.entry(2).key.size(), 8u);
  EXPECT_EQ(index.entry(2).captions[0].size(), 70000u);
  EXPECT_THROW(index.entry(3), FileFormatError);

  // Truncation and a foreign file are refused at open with the file named.
  const std::string bytes = testing::read_bytes(folder.file("meta.idx"));
  testing::write_bytes(folder.file("short.idx"), bytes.substr(0, bytes.size() - 5));
  try {
    MetadataIndex::open(folder.file("short.idx"));
    FAIL() << "a truncated index opened";
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("short.idx"), std::string::npos);
  }
  testing::write_bytes(folder.file("other.idx"), std::string(100, 'z'));
  EXPECT_THROW(MetadataIndex::open(folder.file("other.idx")), FileFormatError);
  // A corrupt entry offset is caught when that entry is read.
  std::string corrupt = bytes;
  corrupt[64 + 8] = static_cast<char>(0xFF);
  const MetadataIndex damaged = MetadataIndex::from_bytes(corrupt, "damaged");
  EXPECT_THROW(damaged.entry(0), FileFormatError);
  EXPECT_THROW(damaged.entry(1), FileFormatError);
  EXPECT_EQ(damaged.entry(2).key.size(), 8u);
}

TEST(TarIndex, ListsGnuAndPaxMembersWithLongNames) {
  const TarIndex gnu = scan_tar(corpus_path("shards/00000.tar"));
  EXPECT_TRUE(gnu.problem.empty()) << gnu.problem;
  ASSERT_EQ(gnu.members.size(), 11u);  // 3 samples x (jpg, txt, json) + png + json
  EXPECT_EQ(gnu.members[0].name, "000000000.jpg");
  EXPECT_EQ(read_file_range(corpus_path("shards/00000.tar"), gnu.members[1].offset, gnu.members[1].size),
            "caption 000000000\n");

  const TarIndex pax = scan_tar(corpus_path("shards/00001.tar"));
  EXPECT_TRUE(pax.problem.empty()) << pax.problem;
  std::string long_name;
  for (const auto& member : pax.members) {
    if (member.name.size() > 100) long_name = member.name;
  }
  EXPECT_EQ(long_name.rfind("sub/dir/longlong", 0), 0u) << "pax path record not applied";
}

TEST(TarIndex, ATruncatedShardKeepsItsCompleteMembersAndSaysWhy) {
  const TarIndex damaged = scan_tar(corpus_path("damaged/00000.tar"));
  EXPECT_EQ(damaged.members.size(), static_cast<size_t>(expected_corpora()["webdataset_damaged"]["complete_members"]));
  EXPECT_NE(damaged.problem.find("truncated"), std::string::npos) << damaged.problem;
  EXPECT_THROW(scan_tar(corpus_path("shards/nonexistent.tar")), FileFormatError);
}

TEST(ZipArchive, ReadsStoredAndDeflatedMembersAndDetectsCorruption) {
  const ZipArchive archive(corpus_path("yfcc15m/images/12/345.zip"));
  EXPECT_EQ(archive.names(), (std::vector<std::string>{"678.jpg", "999.jpg"}));
  const std::string stored = archive.read("678.jpg"), deflated = archive.read("999.jpg");
  EXPECT_EQ(static_cast<uint8_t>(stored[0]), 0xFF);
  EXPECT_EQ(static_cast<uint8_t>(deflated[1]), 0xD8);
  EXPECT_THROW(archive.read("001.jpg"), FileFormatError);

  testing::TemporaryFolder folder;
  std::string bytes = testing::read_bytes(corpus_path("yfcc15m/images/12/345.zip"));
  const size_t at = bytes.find("678.jpg") + 7 + 200;  // inside the stored JPEG's data
  bytes[at] = static_cast<char>(bytes[at] ^ 0x55);
  testing::write_bytes(folder.file("flipped.zip"), bytes);
  try {
    ZipArchive(folder.file("flipped.zip")).read("678.jpg");
    FAIL() << "a corrupt member was read";
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("CRC"), std::string::npos) << e.what();
  }
  testing::write_bytes(folder.file("cut.zip"), bytes.substr(0, bytes.size() / 2));
  EXPECT_THROW(ZipArchive(folder.file("cut.zip")), FileFormatError);
}

TEST(Npy, ReadsNumpyStringsAndIntegersAndRefusesObjectArrays) {
  const NpyArray labels = read_npy(corpus_path("filelist/train_labels.npy"));
  EXPECT_EQ(labels.descr, "<i8");
  EXPECT_EQ(labels.integers, (std::vector<int64_t>{3, 1, 4, 1, 5}));
  const NpyArray names = read_npy(corpus_path("filelist/val_labels.npy"));
  EXPECT_EQ(names.strings[1], "count_10");
  const NpyArray paths = read_npy(corpus_path("filelist/val_images.npy"));
  EXPECT_EQ(paths.strings, (std::vector<std::string>{"img0.jpg", "img1.jpg", "img2.jpg", "img3.jpg", "img4.jpg"}));
  try {
    read_npy(corpus_path("cc3m.npy"));
    FAIL() << "an object array was read";
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("slip_tools index"), std::string::npos);
  }
}

TEST(IdxFile, ReadsPlainAndGzippedMnistFiles) {
  const IdxArray images = read_idx_ubyte(corpus_path("mnist/MNIST/raw/t10k-images-idx3-ubyte"));
  EXPECT_EQ(images.shape, (std::vector<int64_t>{4, 28, 28}));
  const IdxArray labels = read_idx_ubyte(corpus_path("mnist/MNIST/raw/t10k-labels-idx1-ubyte.gz"));
  ASSERT_EQ(labels.shape, (std::vector<int64_t>{4}));
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(labels.data[i], expected_corpora()["mnist_test"][i]["label"]);
  testing::TemporaryFolder folder;
  testing::write_bytes(folder.file("short"), read_whole_file(corpus_path("mnist/MNIST/raw/t10k-images-idx3-ubyte")).substr(0, 100));
  EXPECT_THROW(read_idx_ubyte(folder.file("short")), FileFormatError);
}

TEST(DelimitedText, ParsesQuotedFieldsAsPythonsCsvWritesThem) {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  read_delimited_text(corpus_path("train.csv"), ',', [&](const auto& fields) { header = fields; },
                      [&](const auto& fields, int64_t) { rows.push_back(fields); });
  EXPECT_EQ(header, (std::vector<std::string>{"title", "filepath", "extra"}));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0][0], "a caption, with a comma");
  EXPECT_EQ(rows[1][0], "a \"quoted\" caption");
  EXPECT_EQ(rows[2][0], "multi\nline caption");
  testing::TemporaryFolder folder;
  testing::write_bytes(folder.file("bad.csv"), "a,b\n\"open,1\n");
  EXPECT_THROW(read_delimited_text(folder.file("bad.csv"), ',', [](const auto&) {}, [](const auto&, int64_t) {}),
               FileFormatError);
}

TEST(BraceExpansion, ExpandsRangesListsAndJoinedPatterns) {
  EXPECT_EQ(expand_braces("s/{0008..0011}.tar"),
            (std::vector<std::string>{"s/0008.tar", "s/0009.tar", "s/0010.tar", "s/0011.tar"}));
  EXPECT_EQ(expand_braces("{a,b}-{1..2}"), (std::vector<std::string>{"a-1", "a-2", "b-1", "b-2"}));
  EXPECT_EQ(expand_braces("x.tar::y/{7..8}.tar"), (std::vector<std::string>{"x.tar", "y/7.tar", "y/8.tar"}));
  EXPECT_THROW(expand_braces("s/{1..3.tar"), ConfigError);
  EXPECT_THROW(expand_braces("s/{3..1}.tar"), ConfigError);
  EXPECT_THROW(expand_braces("s/{a..b}.tar"), ConfigError);
}

}  // namespace
}  // namespace slipstream
