// Every corpus and evaluation reader on the corpora tests/data/make_corpora.py wrote with the real
// Python tools, against what SLIP's datasets.py / torchvision would return for them.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "data/corpora.h"
#include "slipstream/core/error.h"
#include "slipstream/data/datasets/caption_corpus.h"
#include "slipstream/data/datasets/corpus_metadata.h"
#include "slipstream/data/datasets/labelled_datasets.h"
#include "slipstream/data/datasets/open_dataset.h"
#include "slipstream/data/datasets/synthetic_dataset.h"
#include "slipstream/data/datasets/webdataset.h"
#include "slipstream/data/datasets/yfcc15m.h"
#include "slipstream/data/image/image_decode.h"
#include "test_paths.h"

namespace slipstream {
namespace {

using testing::corpus_path;
using testing::expected_corpora;

// Every entry's key and captions equal expected.json's list for the corpus.
void expect_entries(const MetadataIndex& index, const nlohmann::json& expected) {
  ASSERT_EQ(index.size(), static_cast<int64_t>(expected.size()));
  for (int64_t i = 0; i < index.size(); ++i) {
    const MetadataEntry entry = index.entry(i);
    EXPECT_EQ(std::string(entry.key), expected[i]["key"].get<std::string>()) << "entry " << i;
    std::vector<std::string> captions(entry.captions.begin(), entry.captions.end());
    EXPECT_EQ(captions, expected[i]["captions"].get<std::vector<std::string>>()) << "entry " << i;
  }
}

// Every sample decodes to an RGB image and carries the expected captions.
void expect_readable(const Dataset& dataset, const nlohmann::json& expected) {
  ASSERT_EQ(dataset.size(), static_cast<int64_t>(expected.size()));
  for (int64_t i = 0; i < dataset.size(); ++i) {
    const RawSample sample = dataset.get(i);
    EXPECT_EQ(sample.captions, expected[i]["captions"].get<std::vector<std::string>>());
    const Image image = decode_image(reinterpret_cast<const uint8_t*>(sample.encoded.data()), sample.encoded.size(), sample.source);
    EXPECT_EQ(image.size(2), 3);
  }
}

TEST(CorpusMetadata, CocoGroupsCaptionsByImageInFirstSeenOrder) {
  expect_entries(coco_metadata(corpus_path("captions_train2017.json")), expected_corpora()["coco"]);
  const CaptionCorpusDataset coco(coco_metadata(corpus_path("captions_train2017.json")), corpus_path("coco"));
  expect_readable(coco, expected_corpora()["coco"]);
}

TEST(CorpusMetadata, RedcapsAndCsvAndTsvReadDirectly) {
  expect_entries(redcaps_metadata(corpus_path("redcaps_annotations.json")), expected_corpora()["redcaps"]);
  expect_readable(*open_dataset({"redcaps", corpus_path("redcaps"), corpus_path("redcaps_annotations.json")}),
                  expected_corpora()["redcaps"]);
  expect_entries(load_corpus_metadata("csv", corpus_path("train.csv")), expected_corpora()["csv"]);
  expect_entries(load_corpus_metadata("tsv", corpus_path("train.tsv")), expected_corpora()["csv"]);
  CsvColumns columns;
  columns.caption_column = "caption";
  try {
    load_corpus_metadata("csv", corpus_path("train.csv"), columns);
    FAIL() << "a missing column was accepted";
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("--csv-caption-key"), std::string::npos) << e.what();
  }
}

TEST(CorpusMetadata, PicklesAndNumpyObjectArraysGoThroughThePythonExport) {
  for (const char* corpus : {"yfcc15m", "cc3m", "cc12m"}) {
    const std::string file = std::string(corpus) + (std::string(corpus) == "yfcc15m" ? ".pkl" : ".npy");
    try {
      load_corpus_metadata(corpus, corpus_path(file));
      FAIL() << corpus << ": a pickle was accepted as metadata";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("slip_tools index --dataset " + std::string(corpus)), std::string::npos) << e.what();
    }
    const MetadataIndex exported = export_python_metadata(corpus, corpus_path(file), SLIPSTREAM_TEST_PYTHON);
    std::vector<nlohmann::json> expected;
    for (const auto& entry : expected_corpora()[corpus]) expected.push_back({{"key", entry["key"]}, {"captions", entry["captions"]}});
    expect_entries(exported, expected);
    EXPECT_EQ(exported.corpus(), corpus);
  }
  EXPECT_THROW(export_python_metadata("cc3m", corpus_path("no-such.npy"), SLIPSTREAM_TEST_PYTHON), FileFormatError);
  EXPECT_THROW(export_python_metadata("cc3m", corpus_path("yfcc15m.pkl"), SLIPSTREAM_TEST_PYTHON), FileFormatError);
}

TEST(CorpusMetadata, IndexFilesReopenAndNameTheirCorpus) {
  testing::TemporaryFolder folder;
  MetadataIndexBuilder builder("cc3m");
  const MetadataIndex exported = export_python_metadata("cc3m", corpus_path("cc3m.npy"), SLIPSTREAM_TEST_PYTHON);
  for (int64_t i = 0; i < exported.size(); ++i) builder.add(exported.entry(i).key, exported.entry(i).captions);
  builder.write(folder.file("cc3m.idx"));
  const DatasetPtr cc3m = open_dataset({"cc3m", corpus_path("cc3m"), folder.file("cc3m.idx")});
  expect_readable(*cc3m, expected_corpora()["cc3m"]);
  EXPECT_THROW(load_corpus_metadata("cc12m", folder.file("cc3m.idx")), ConfigError);
  std::istringstream lines("{\"key\": \"a.jpg\", \"captions\": [\"x\"]}\n{\"key\": 3}\n");
  EXPECT_THROW(json_lines_metadata(lines, "cc3m", "lines"), FileFormatError);
}

TEST(Yfcc15m, ImagesComeFromZipsInPlaceAndMissingOnesAreSampleErrors) {
  for (const auto& [photo, location] : expected_corpora()["yfcc15m_locations"].items()) {
    const auto [zip, member] = yfcc_image_location(std::stoll(photo));
    EXPECT_EQ(zip, location[0].get<std::string>());
    EXPECT_EQ(member, location[1].get<std::string>());
  }
  const MetadataIndex metadata = export_python_metadata("yfcc15m", corpus_path("yfcc15m.pkl"), SLIPSTREAM_TEST_PYTHON);
  const CaptionCorpusDataset yfcc(metadata, corpus_path("yfcc15m"));
  const auto& expected = expected_corpora()["yfcc15m"];
  ASSERT_EQ(yfcc.size(), static_cast<int64_t>(expected.size()));
  for (int64_t i = 0; i < yfcc.size(); ++i) {
    if (expected[i]["readable"].get<bool>()) {
      const RawSample sample = yfcc.get(i);
      EXPECT_EQ(sample.captions, expected[i]["captions"].get<std::vector<std::string>>());
      EXPECT_EQ(decode_image(reinterpret_cast<const uint8_t*>(sample.encoded.data()), sample.encoded.size(), sample.source).size(0), 30);
    } else {
      try {
        yfcc.get(i);
        FAIL() << "a photo missing from its zip was read";
      } catch (const SampleError& e) {
        EXPECT_NE(e.source().find("images/12/345.zip:001.jpg"), std::string::npos) << e.source();
      }
    }
  }
}

TEST(Yfcc15m, CaptionCleaningIsSlipsMakeDatasetCleaning) {
  // yfcc100m_metadata filters YFCC100M's rows to the subset and cleans as make_dataset.py does;
  // expected.json holds Python's own output of that code.
  expect_entries(yfcc100m_metadata(corpus_path("yfcc100m_dataset.txt"), corpus_path("yfcc100m_subset_data.tsv")),
                 expected_corpora()["yfcc100m"]);
  EXPECT_EQ(clean_yfcc_caption("a+%3Cb%3Ebold%3C%2Fb%3E+www.x.org/y+z"), "a bold  z");
}

TEST(WebDataset, GroupsMembersByKeyAcrossShardsAndReadsCaptions) {
  const WebDataset shards(corpus_path("shards/{00000..00002}.tar"));
  const auto& expected = expected_corpora()["webdataset"];
  EXPECT_EQ(shards.shard_sizes(), expected["shard_sizes"].get<std::vector<int64_t>>());
  EXPECT_EQ(shards.stats().incomplete, expected["incomplete"].get<int64_t>());
  ASSERT_EQ(shards.size(), static_cast<int64_t>(expected["samples"].size()));
  for (int64_t i = 0; i < shards.size(); ++i) {
    const RawSample sample = shards.get(i);
    const auto& want = expected["samples"][i];
    EXPECT_EQ(sample.captions, std::vector<std::string>{want["caption"].get<std::string>()});
    EXPECT_NE(sample.source.find(want["key"].get<std::string>()), std::string::npos);
    EXPECT_GT(decode_image(reinterpret_cast<const uint8_t*>(sample.encoded.data()), sample.encoded.size(), sample.source).numel(), 0);
  }
  // A damaged shard keeps its complete samples and is reported; a missing one is an error.
  const WebDataset damaged(corpus_path("shards/00000.tar::") + corpus_path("damaged/00000.tar"));
  EXPECT_EQ(damaged.stats().damaged_shards, 1);
  EXPECT_EQ(damaged.shard_sizes()[0], 4);
  EXPECT_NE(damaged.description().find("1 damaged"), std::string::npos);
  EXPECT_THROW(WebDataset(corpus_path("shards/{00000..00003}.tar")), FileFormatError);
}

TEST(LabelledDatasets, ImageFolderFollowsTorchvisionsOrder) {
  const auto folder = open_image_folder(corpus_path("imagefolder"));
  const auto& expected = expected_corpora()["imagefolder"];
  EXPECT_EQ(folder->class_names(), expected["classes"].get<std::vector<std::string>>());
  ASSERT_EQ(folder->size(), static_cast<int64_t>(expected["samples"].size()));
  for (int64_t i = 0; i < folder->size(); ++i) {
    const RawSample sample = folder->get(i);
    EXPECT_EQ(sample.source, corpus_path("imagefolder/" + expected["samples"][i][0].get<std::string>()));
    EXPECT_EQ(sample.label, expected["samples"][i][1].get<int64_t>());
  }
}

TEST(LabelledDatasets, FileListsTakeIntegerAndNamedLabels) {
  const auto train = open_file_list(corpus_path("filelist"), "train");
  EXPECT_EQ(train->labels(), expected_corpora()["filelist"]["train_labels"].get<std::vector<int64_t>>());
  EXPECT_GT(train->get(0).encoded.size(), 0u);
  const auto val = open_file_list(corpus_path("filelist"), "val");
  EXPECT_EQ(val->labels(), expected_corpora()["filelist"]["val_labels"].get<std::vector<int64_t>>());
  // clevr_counts maps its names through SLIP's hand-written list, whatever counts the split holds.
  const auto clevr = open_file_list(corpus_path("filelist"), "val", "clevr_counts", slip_clevr_count_classes());
  EXPECT_EQ(clevr->labels(), expected_corpora()["filelist"]["slip_clevr_labels"].get<std::vector<int64_t>>());
  EXPECT_EQ(val->get(2).source, corpus_path("filelist/img2.jpg"));
}

void expect_tensor_dataset(const Dataset& dataset, const nlohmann::json& expected) {
  ASSERT_EQ(dataset.size(), static_cast<int64_t>(expected.size()));
  for (int64_t i = 0; i < dataset.size(); ++i) {
    const RawSample sample = dataset.get(i);
    EXPECT_EQ(sample.label, expected[i]["label"].get<int64_t>()) << i;
    EXPECT_EQ(testing::pixel_checksum(sample.image), expected[i]["checksum"].get<int64_t>()) << i;
  }
}

TEST(LabelledDatasets, CifarMnistAndStl10ReadTheirPublishersBinaryFiles) {
  expect_tensor_dataset(*open_cifar10(corpus_path("cifar10"), true), expected_corpora()["cifar10"]["train"]);
  expect_tensor_dataset(*open_cifar10(corpus_path("cifar10"), false), expected_corpora()["cifar10"]["test"]);
  EXPECT_EQ(open_cifar10(corpus_path("cifar10"), false)->class_names().at(9), "truck");
  expect_tensor_dataset(*open_cifar100(corpus_path("cifar100"), false), expected_corpora()["cifar100_test"]);
  expect_tensor_dataset(*open_mnist(corpus_path("mnist"), false), expected_corpora()["mnist_test"]);
  expect_tensor_dataset(*open_stl10(corpus_path("stl10"), false), expected_corpora()["stl10_test"]);
  EXPECT_THROW(open_mnist(corpus_path("cifar10"), true), FileFormatError);
}

TEST(OpenDataset, CatalogEntriesResolveAsSlipsGetDownstreamDataset) {
  testing::TemporaryFolder folder;
  std::ofstream(folder.file("catalog.json")) << nlohmann::json{
      {"pets", {{"path", corpus_path("")}, {"type", "imagefolder"}, {"train", "imagefolder"}, {"test", "imagefolder"}}},
      {"clevr_counts", {{"path", corpus_path("filelist")}, {"type", "filelist"}, {"train", "train"}, {"test", "val"}}},
      {"cifar10", {{"path", corpus_path("cifar10")}, {"type", "special"}}}}.dump();
  EXPECT_EQ(open_catalog_dataset(folder.file("catalog.json"), "pets", false)->size(), 6);
  const DatasetPtr clevr = open_catalog_dataset(folder.file("catalog.json"), "clevr_counts", false);
  EXPECT_EQ(clevr->class_names(), slip_clevr_count_classes());
  EXPECT_EQ(clevr->get(2).label, expected_corpora()["filelist"]["slip_clevr_labels"][2].get<int64_t>());
  EXPECT_EQ(open_catalog_dataset(folder.file("catalog.json"), "cifar10", true)->size(), 10);
  EXPECT_THROW(open_catalog_dataset(folder.file("catalog.json"), "imagenet", false), ConfigError);
  try {
    open_dataset({"cc3m", "", corpus_path("cc3m.npy")});
    FAIL() << "cc3m opened without --root";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--root"), std::string::npos);
  }
  EXPECT_THROW(open_dataset({"laion"}), ConfigError);
}

TEST(SyntheticDataset, SamplesAreAFunctionOfTheirIndex) {
  const SyntheticDataset synthetic(10, 64);
  const RawSample a = synthetic.get(3), b = synthetic.get(3), c = synthetic.get(4);
  EXPECT_TRUE(a.image.equal(b.image));
  EXPECT_FALSE(a.image.equal(c.image));
  EXPECT_EQ(a.image.sizes(), (std::vector<int64_t>{64, 64, 3}));
  EXPECT_EQ(a.captions, b.captions);
}

}  // namespace
}  // namespace slipstream
