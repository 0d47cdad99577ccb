// The threaded loader: identical batches whatever the worker count, exact resume from a step, bad
// samples replaced (deterministically), counted and logged once, a worker's error surfacing
// in next() without hanging, and ranks reading disjoint parts of the epoch.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <mutex>
#include <set>
#include <stdexcept>

#include "data/corpora.h"
#include "slipstream/core/error.h"
#include "slipstream/data/datasets/open_dataset.h"
#include "slipstream/data/datasets/synthetic_dataset.h"
#include "slipstream/data/loader.h"

namespace slipstream {
namespace {

// Synthetic samples, some of which fail as a corrupt image would, and one that fails like a bug.
class FaultyDataset : public Dataset {
 public:
  FaultyDataset(int64_t size, std::set<int64_t> corrupt, int64_t broken = -1)
      : inner_(size, 32), corrupt_(std::move(corrupt)), broken_(broken) {}
  int64_t size() const override { return inner_.size(); }
  RawSample get(int64_t index) const override {
    if (index == broken_) throw std::logic_error("a bug in sample " + std::to_string(index));
    if (corrupt_.count(index)) throw SampleError("faulty:" + std::to_string(index), "corrupt image");
    return inner_.get(index);
  }
  std::string description() const override { return "faulty"; }

 private:
  SyntheticDataset inner_;
  std::set<int64_t> corrupt_;
  int64_t broken_;
};

std::shared_ptr<SamplePipeline> small_pipeline(std::vector<int64_t> view_sizes = {}) {
  PipelineOptions options;
  options.views = {ViewRecipe::kClip, ViewRecipe::kSimclr};
  options.image_size = 16;
  options.view_sizes = std::move(view_sizes);
  options.context_length = 8;
  options.tokenizer = [](const std::string& caption) {
    std::vector<int64_t> ids = {1};
    for (size_t i = 0; i < caption.size() && ids.size() < 7; ++i) ids.push_back(static_cast<unsigned char>(caption[i]));
    ids.push_back(2);
    return ids;
  };
  return std::make_shared<SamplePipeline>(options);
}

LoaderOptions loader_options(int workers, int64_t batch = 4) {
  LoaderOptions options;
  options.batch_size = batch;
  options.workers = workers;
  options.seed = 11;
  options.pin_memory = false;
  options.warn = [](const std::string&) {};
  return options;
}

std::vector<Batch> read_epoch(Loader& loader, int64_t epoch, int64_t start_step = 0) {
  loader.start_epoch(epoch, start_step);
  std::vector<Batch> batches;
  while (auto batch = loader.next()) batches.push_back(std::move(*batch));
  return batches;
}

void expect_same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t s = 0; s < a.size(); ++s) {
    EXPECT_EQ(a[s].step, b[s].step);
    EXPECT_TRUE(a[s].indices.equal(b[s].indices)) << "step " << s;
    EXPECT_TRUE(a[s].tokens.equal(b[s].tokens)) << "step " << s;
    ASSERT_EQ(a[s].views.size(), b[s].views.size());
    for (size_t v = 0; v < a[s].views.size(); ++v) EXPECT_TRUE(a[s].views[v].equal(b[s].views[v])) << "step " << s << " view " << v;
    EXPECT_EQ(a[s].captions, b[s].captions);
  }
}

TEST(Loader, BatchesDoNotDependOnTheNumberOfWorkers) {
  const auto dataset = std::make_shared<FaultyDataset>(40, std::set<int64_t>{5, 17});
  Loader one(dataset, small_pipeline(), loader_options(1));
  Loader three(dataset, small_pipeline(), loader_options(3));
  const auto a = read_epoch(one, 2), b = read_epoch(three, 2);
  ASSERT_EQ(a.size(), 10u);
  expect_same_batches(a, b);
  EXPECT_EQ(a[0].views[0].sizes(), (std::vector<int64_t>{4, 3, 16, 16}));
  EXPECT_EQ(a[0].views[1].sizes(), (std::vector<int64_t>{4, 3, 16, 16}));
  EXPECT_EQ(a[0].tokens.sizes(), (std::vector<int64_t>{4, 8}));
  EXPECT_FALSE(a[0].views[0].equal(a[0].views[1])) << "the clip and simclr views must differ";
  // A different epoch reshuffles.
  EXPECT_FALSE(read_epoch(one, 3)[0].indices.equal(a[0].indices));
}

TEST(Loader, ViewsTakeTheirOwnSizes) {  // SLIP's smaller SimCLR views (ssl.image_size)
  const auto dataset = std::make_shared<FaultyDataset>(8, std::set<int64_t>{});
  Loader loader(dataset, small_pipeline({16, 8}), loader_options(2));
  const auto batches = read_epoch(loader, 0);
  EXPECT_EQ(batches[0].views[0].sizes(), (std::vector<int64_t>{4, 3, 16, 16}));
  EXPECT_EQ(batches[0].views[1].sizes(), (std::vector<int64_t>{4, 3, 8, 8}));
  Loader same_sizes(dataset, small_pipeline(), loader_options(2));  // the first view does not change
  EXPECT_TRUE(read_epoch(same_sizes, 0)[0].views[0].equal(batches[0].views[0]));
  EXPECT_THROW(small_pipeline({16}), ConfigError);
  EXPECT_THROW(small_pipeline({16, 32}), ConfigError);
}

TEST(Loader, ResumingFromAStepGivesTheRemainingBatchesOfAnUninterruptedRun) {
  const auto dataset = std::make_shared<FaultyDataset>(30, std::set<int64_t>{});
  Loader loader(dataset, small_pipeline(), loader_options(2, 5));
  const auto full = read_epoch(loader, 4);
  const auto resumed = read_epoch(loader, 4, 3);
  expect_same_batches(std::vector<Batch>(full.begin() + 3, full.end()), resumed);
  EXPECT_THROW(loader.start_epoch(4, 7), ConfigError);
}

TEST(Loader, BadSamplesAreReplacedCountedAndLoggedOnce) {
  const auto dataset = std::make_shared<FaultyDataset>(24, std::set<int64_t>{1, 2, 3, 20});
  LoaderOptions options = loader_options(2, 6);
  std::mutex mutex;
  std::vector<std::string> lines;
  options.warn = [&](const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex);
    lines.push_back(line);
  };
  Loader loader(dataset, small_pipeline(), options);
  int64_t replaced = 0;
  for (int epoch = 0; epoch < 2; ++epoch) {
    for (const Batch& batch : read_epoch(loader, epoch)) {
      EXPECT_EQ(batch.size(), 6) << "batches stay full";
      replaced += batch.replaced;
      for (int64_t i = 0; i < batch.size(); ++i) {
        EXPECT_EQ(std::set<int64_t>({1, 2, 3, 20}).count(batch.indices[i].item<int64_t>()), 0u);
      }
    }
  }
  EXPECT_GE(replaced, 8);  // each of the four corrupt samples, in both epochs
  EXPECT_EQ(loader.bad_samples(), replaced);
  EXPECT_EQ(lines.size(), 4u) << "each bad source is logged once";
  EXPECT_NE(lines[0].find("faulty:"), std::string::npos);
}

TEST(Loader, CorruptAndMissingImagesOfARealCorpusAreSkipped) {
  DatasetOptions options;
  options.dataset = "csv";
  options.metadata = testing::corpus_path("train.csv");
  options.root = testing::corpus_path("");
  Loader loader(open_dataset(options), small_pipeline(), loader_options(2, 4));
  const auto batches = read_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 1u);
  // csv/c.jpg is not an image and csv/missing.jpg does not exist: both are replaced (a substitute
  // may itself be one of them and be replaced again), and only the two good images remain.
  EXPECT_GE(batches[0].replaced, 2);
  EXPECT_EQ(loader.bad_samples(), batches[0].replaced);
  EXPECT_EQ(std::set<std::string>(batches[0].captions.begin(), batches[0].captions.end()),
            (std::set<std::string>{"a caption, with a comma", "a \"quoted\" caption"}));
}

TEST(Loader, AWorkerErrorSurfacesInNextAndStopsTheOthers) {
  const auto dataset = std::make_shared<FaultyDataset>(64, std::set<int64_t>{}, /*broken=*/33);
  Loader loader(dataset, small_pipeline(), loader_options(3, 4));
  loader.start_epoch(0);
  try {
    while (loader.next()) {
    }
    FAIL() << "the worker's error was lost";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("sample 33"), std::string::npos);
  }
  // Nothing but corrupt samples: the loader gives up with a clear error instead of spinning.
  std::set<int64_t> all;
  for (int64_t i = 0; i < 16; ++i) all.insert(i);
  LoaderOptions options = loader_options(1, 4);
  options.max_replacements = 5;
  Loader hopeless(std::make_shared<FaultyDataset>(16, all), small_pipeline(), options);
  hopeless.start_epoch(0);
  EXPECT_THROW(hopeless.next(), Error);
}

TEST(Loader, RanksReadDisjointPartsOfTheEpoch) {
  const auto dataset = std::make_shared<FaultyDataset>(32, std::set<int64_t>{});
  std::set<int64_t> seen;
  for (int64_t rank = 0; rank < 2; ++rank) {
    LoaderOptions options = loader_options(2, 4);
    options.rank = rank;
    options.world_size = 2;
    Loader loader(dataset, small_pipeline(), options);
    EXPECT_EQ(loader.steps_per_epoch(), 4);
    for (const Batch& batch : read_epoch(loader, 0)) {
      for (int64_t i = 0; i < batch.size(); ++i) EXPECT_TRUE(seen.insert(batch.indices[i].item<int64_t>()).second);
    }
  }
  EXPECT_EQ(seen.size(), 32u);
  LoaderOptions evaluation = loader_options(1, 5);
  evaluation.drop_last = false;
  evaluation.shuffle = false;
  Loader last(std::make_shared<FaultyDataset>(12, std::set<int64_t>{}), small_pipeline(), evaluation);
  const auto batches = read_epoch(last, 0);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[2].size(), 2);
  EXPECT_EQ(batches[2].indices[1].item<int64_t>(), 11);
}

}  // namespace
}  // namespace slipstream
