// Streamed WebDataset shards: the streaming tar reader on the shards Python's tarfile wrote (GNU,
// pax, long names), keys with dots and members in any order, damage reported as ShardError; the
// sample stream's order fixed whatever the timing of the reads, ranks taking disjoint shards that
// together hold every sample once a pass, failed shards skipped and counted (or fatal), the
// position restored exactly; the streaming loader's batches equal for 1 and 3 workers and after a
// mid-epoch restore.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <map>
#include <set>

#include "data/corpora.h"
#include "data/encode_image.h"
#include "slipstream/core/error.h"
#include "slipstream/data/datasets/webdataset.h"
#include "slipstream/data/formats/tar_header.h"
#include "slipstream/data/formats/tar_index.h"
#include "slipstream/data/formats/tar_writer.h"
#include "slipstream/data/streaming/byte_stream.h"
#include "slipstream/data/streaming/sample_stream.h"
#include "slipstream/data/streaming/shard_sample_reader.h"
#include "slipstream/data/streaming/streaming_loader.h"
#include "test_paths.h"

namespace slipstream {
namespace {

using testing::corpus_path;
using testing::expected_corpora;
using testing::TemporaryFolder;

std::vector<ShardSample> read_shard(const std::string& url, int64_t* incomplete = nullptr) {
  ShardSampleReader reader(open_shard(url, ShardSourceOptions{}), url);
  std::vector<ShardSample> samples;
  ShardSample sample;
  while (reader.next(sample)) samples.push_back(sample);
  if (incomplete) *incomplete = reader.incomplete();
  return samples;
}

std::string shard_error(const std::string& url) {
  try {
    read_shard(url);
  } catch (const ShardError& e) {
    return e.what();
  }
  return "";
}

// A small JPEG whose pixels say which sample it is.
std::string jpeg_of(int64_t id) {
  Image image = at::full({8, 8, 3}, static_cast<uint8_t>(id % 251), at::kByte);
  image[0][0][0] = static_cast<uint8_t>(id / 251);
  const std::vector<uint8_t> bytes = testing::encode_image(image, ".jpg");
  return std::string(bytes.begin(), bytes.end());
}

// `shards` shards of `per_shard` samples "sNNNNN" (jpg + txt), named 00000.tar ... in `folder`
// (or its sub-folder `under`).
std::vector<std::string> write_shards(const TemporaryFolder& folder, int shards, int per_shard, const std::string& under = "") {
  std::vector<std::string> paths;
  if (!under.empty()) std::filesystem::create_directories(folder.path() / under);
  for (int s = 0; s < shards; ++s) {
    char name[32];
    std::snprintf(name, sizeof(name), "%s%05d.tar", under.empty() ? "" : (under + "/").c_str(), s);
    TarWriter tar(folder.file(name));
    for (int i = 0; i < per_shard; ++i) {
      char key[32];
      std::snprintf(key, sizeof(key), "s%05d", s * per_shard + i);
      tar.add(std::string(key) + ".jpg", jpeg_of(s * per_shard + i));
      tar.add(std::string(key) + ".txt", std::string("caption of ") + key);
    }
    tar.finish();
    paths.push_back(folder.file(name));
  }
  return paths;
}

std::string join(const std::vector<std::string>& urls) {
  std::string out;
  for (const std::string& url : urls) out += (out.empty() ? "" : "::") + url;
  return out;
}

std::string key_of(const std::string& source) { return source.substr(source.rfind(':') + 1); }

std::vector<std::string> keys(SampleStream& stream, int64_t count) {
  std::vector<std::string> out;
  for (int64_t i = 0; i < count; ++i) out.push_back(key_of(stream.next().source));
  return out;
}

SampleStreamOptions quiet(SampleStreamOptions options = {}) {
  options.warn = [](const std::string&) {};
  return options;
}

std::shared_ptr<const ShardList> shard_list(const std::string& spec) {
  return std::make_shared<const ShardList>(parse_shard_list(spec));
}

TEST(StreamingShards, ReadsTheShardsPythonsTarfileWroteAsTheIndexedReaderDoes) {
  const auto& expected = expected_corpora()["webdataset"];
  std::vector<std::pair<std::string, std::string>> streamed;
  int64_t incomplete = 0;
  for (int s = 0; s < 3; ++s) {  // GNU format, pax (with a name past 100 bytes), GNU with an incomplete key
    int64_t skipped = 0;
    for (const ShardSample& sample : read_shard(corpus_path("shards/0000" + std::to_string(s) + ".tar"), &skipped)) {
      streamed.emplace_back(sample.key, sample.caption);
      EXPECT_FALSE(sample.image.empty());
    }
    incomplete += skipped;
  }
  ASSERT_EQ(streamed.size(), expected["samples"].size());
  for (size_t i = 0; i < streamed.size(); ++i) {
    EXPECT_EQ(streamed[i].first, expected["samples"][i]["key"].get<std::string>());
    EXPECT_EQ(streamed[i].second, expected["samples"][i]["caption"].get<std::string>());
  }
  EXPECT_EQ(incomplete, expected["incomplete"].get<int64_t>());
  // The same bytes as the random-access reader's.
  const WebDataset indexed(corpus_path("shards/{00000..00002}.tar"));
  for (size_t i = 0; i < streamed.size(); ++i) {
    EXPECT_EQ(indexed.get(static_cast<int64_t>(i)).captions.at(0), streamed[i].second);
  }
}

TEST(StreamingShards, KeysWithDotsMembersInAnyOrderAndExtraFields) {
  const auto& expected = expected_corpora()["webdataset_dotted"];
  int64_t incomplete = 0;
  const std::vector<ShardSample> samples = read_shard(corpus_path("dotted/00000.tar"), &incomplete);
  ASSERT_EQ(samples.size(), expected["samples"].size());
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(samples[i].key, expected["samples"][i]["key"].get<std::string>());
    EXPECT_EQ(samples[i].caption, expected["samples"][i]["caption"].get<std::string>());
  }
  EXPECT_EQ(incomplete, expected["incomplete"].get<int64_t>());
  const WebDataset indexed(corpus_path("dotted/00000.tar"));
  ASSERT_EQ(indexed.size(), static_cast<int64_t>(samples.size()));
  for (size_t i = 0; i < samples.size(); ++i) EXPECT_EQ(indexed.get(static_cast<int64_t>(i)).captions.at(0), samples[i].caption);
}

TEST(StreamingShards, DamageIsAShardErrorNamingTheShardAndWhy) {
  TemporaryFolder folder;
  testing::write_bytes(folder.file("not_a_tar.tar"), "<html>404 Not Found</html>\n" + std::string(600, 'x'));
  testing::write_bytes(folder.file("empty.tar"), "");
  const std::string truncated = corpus_path("damaged/00000.tar");
  EXPECT_NE(shard_error(truncated).find("truncated"), std::string::npos) << shard_error(truncated);
  EXPECT_EQ(shard_error(truncated).rfind(truncated, 0), 0u);
  EXPECT_NE(shard_error(folder.file("not_a_tar.tar")).find("not a tar archive"), std::string::npos);
  // Cut at a block boundary, between members: no end-of-archive blocks, so the shard is not whole.
  const std::string whole = testing::read_bytes(corpus_path("shards/00000.tar"));
  const TarMember first_text = scan_tar(corpus_path("shards/00000.tar")).members.at(1);  // the first sample's .txt
  testing::write_bytes(folder.file("cut.tar"), whole.substr(0, first_text.offset + tar_padded_size(first_text.size)));
  EXPECT_NE(shard_error(folder.file("cut.tar")).find("without the end-of-archive blocks"), std::string::npos)
      << shard_error(folder.file("cut.tar"));
  EXPECT_NE(shard_error(folder.file("empty.tar")).find("empty shard"), std::string::npos);
  EXPECT_NE(shard_error(folder.file("missing.tar")).find("cannot open"), std::string::npos);
  EXPECT_NE(shard_error("pipe:exit 3").find("exited with status 3"), std::string::npos);
  ShardSourceOptions quick;
  quick.stall_timeout_seconds = 0.5;
  ShardSampleReader hung(open_shard("pipe:sleep 30", quick), "pipe:sleep 30");
  ShardSample sample;
  const auto start = std::chrono::steady_clock::now();
  try {
    hung.next(sample);
    ADD_FAILURE() << "a command that sends nothing did not fail";
  } catch (const ShardError& e) {
    EXPECT_NE(std::string(e.what()).find("no data for 0.5 s"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(SampleStream, TheOrderIsTheSameWhateverHowFastEachShardArrives) {
  TemporaryFolder folder;
  const std::vector<std::string> paths = write_shards(folder, 6, 10);
  std::vector<std::string> delayed;  // each shard through a command that waits a different while first
  for (size_t i = 0; i < paths.size(); ++i) {
    delayed.push_back("pipe:sleep 0." + std::to_string((i * 7) % 5) + "; cat " + paths[i]);
  }
  SampleStreamOptions options = quiet();
  options.readers = 3;
  options.shuffle_buffer = 20;
  SampleStream local(shard_list(join(paths)), options), piped(shard_list(join(delayed)), options);
  local.start_pass(0);
  piped.start_pass(0);
  const std::vector<std::string> order = keys(local, 150);  // two passes and a half
  EXPECT_EQ(order, keys(piped, 150));
  EXPECT_NE(std::vector<std::string>(order.begin(), order.begin() + 60),
            std::vector<std::string>(order.begin() + 60, order.begin() + 120)) << "passes are shuffled anew";
  std::set<std::string> first_pass(order.begin(), order.begin() + 60);
  EXPECT_EQ(first_pass.size(), 60u) << "every sample once in a pass";
}

TEST(SampleStream, RanksTakeDisjointShardsAndTogetherEverySampleOncePerPass) {
  TemporaryFolder folder;
  const auto shards = shard_list(join(write_shards(folder, 7, 5)));
  std::map<std::string, int> seen;
  std::set<std::string> shards_of[3];
  for (int64_t rank = 0; rank < 3; ++rank) {
    SampleStreamOptions options = quiet();
    options.rank = rank;
    options.world_size = 3;
    options.readers = 2;
    options.shuffle_buffer = 8;
    SampleStream stream(shards, options);
    stream.start_pass(0);
    while (true) {
      const StreamedSample sample = stream.next();
      if (stream.pass() != 0) break;
      ++seen[key_of(sample.source)];
      shards_of[rank].insert(sample.source.substr(0, sample.source.rfind(':')));
    }
  }
  EXPECT_EQ(seen.size(), 35u);
  for (const auto& [key, times] : seen) EXPECT_EQ(times, 1) << key;
  for (int a = 0; a < 3; ++a) {
    for (int b = a + 1; b < 3; ++b) {
      for (const std::string& shard : shards_of[a]) EXPECT_EQ(shards_of[b].count(shard), 0u) << shard;
    }
  }
  SampleStreamOptions too_many = quiet();
  too_many.world_size = 8;
  EXPECT_THROW(SampleStream(shards, too_many), ConfigError);
  too_many.resampled = true;  // drawn with replacement, every rank gets shards
  SampleStream resampled(shards, too_many);
  resampled.start_pass(0);
  EXPECT_EQ(keys(resampled, 40).size(), 40u);
}

TEST(SampleStream, ResampledShardsAreDrawnByTheirListsUpsamplingFactors) {
  TemporaryFolder folder;
  write_shards(folder, 2, 1, "a");
  write_shards(folder, 2, 1, "b");
  const std::string first = folder.file("a/{00000..00001}.tar"), second = folder.file("b/{00000..00001}.tar");
  const auto shards = std::make_shared<const ShardList>(parse_shard_list(first + "::" + second, {1.0, 3.0}));
  EXPECT_EQ(shards->weights, (std::vector<double>{1, 1, 3, 3}));
  SampleStreamOptions options = quiet();
  options.resampled = true;
  options.shuffle_buffer = 0;
  SampleStream stream(shards, options);
  stream.start_pass(0);
  int64_t from_second = 0;
  for (int i = 0; i < 400; ++i) from_second += stream.next().source.rfind(folder.file("b/"), 0) == 0;
  EXPECT_NEAR(static_cast<double>(from_second) / 400.0, 0.75, 0.06) << from_second << " of 400 from the list weighted 3";
  EXPECT_THROW(parse_shard_list(first + "::" + second, {1.0}), ConfigError);
  EXPECT_THROW(parse_shard_list(first, {0.0}), ConfigError);
}

TEST(SampleStream, ARestoredPositionGivesExactlyTheSamplesThatFollowed) {
  TemporaryFolder folder;
  const auto shards = shard_list(join(write_shards(folder, 5, 9)));
  for (int64_t buffer : {0, 12}) {
    SampleStreamOptions options = quiet();
    options.readers = 2;
    options.shuffle_buffer = buffer;
    SampleStream reference(shards, options);
    reference.start_pass(0);
    const std::vector<std::string> all = keys(reference, 120);  // 45 a pass
    for (int64_t cut : {0, 1, 13, 44, 45, 46, 100}) {
      SampleStream first(shards, options);
      first.start_pass(0);
      keys(first, cut);
      const std::string state = first.state();
      SampleStream resumed(shards, options);
      resumed.restore(state);
      EXPECT_EQ(keys(resumed, 120 - cut), std::vector<std::string>(all.begin() + cut, all.end()))
          << "buffer " << buffer << ", cut after " << cut;
    }
  }
  SampleStreamOptions other = quiet();
  SampleStream a(shards, other);
  a.start_pass(0);
  keys(a, 3);
  other.world_size = 1;
  other.readers = 3;
  SampleStream b(shards, other);
  EXPECT_THROW(b.restore(a.state()), ConfigError);
}

TEST(SampleStream, FailedShardsAreSkippedCountedAndLoggedOnceOrFatalWhenAsked) {
  TemporaryFolder folder;
  std::vector<std::string> urls = write_shards(folder, 3, 4);
  urls.push_back(folder.file("missing.tar"));
  urls.push_back("pipe:exit 1");
  std::vector<std::string> lines;
  SampleStreamOptions options;
  options.warn = [&](const std::string& line) { lines.push_back(line); };
  options.readers = 2;
  options.shuffle_buffer = 0;
  SampleStream stream(shard_list(join(urls)), options);
  stream.start_pass(0);
  std::set<std::string> pass;
  while (true) {
    const StreamedSample sample = stream.next();
    if (stream.pass() != 0) break;
    pass.insert(key_of(sample.source));
  }
  EXPECT_EQ(pass.size(), 12u);
  // The pass's two failures (and perhaps the next pass's, met on its first sample), each logged once.
  EXPECT_GE(stream.counters().shards_failed, 2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("[data] skipped shard "), std::string::npos) << lines[0];
  keys(stream, 24);  // the second pass: the same shards fail again, and are not logged again
  EXPECT_GE(stream.counters().shards_failed, 4);
  EXPECT_EQ(lines.size(), 2u);

  options.fail_on_shard_error = true;
  SampleStream strict(shard_list(join(urls)), options);
  strict.start_pass(0);
  try {
    keys(strict, 13);
    ADD_FAILURE() << "--shard-errors fail did not stop";
  } catch (const ShardError& e) {
    EXPECT_NE(std::string(e.what()).find("--shard-errors fail"), std::string::npos) << e.what();
  }
  options.fail_on_shard_error = false;
  options.max_failed_share = 1.0;  // every shard may fail, but a pass that gives nothing ends the stream
  SampleStream barren(shard_list(folder.file("missing.tar") + "::pipe:exit 1"), options);
  barren.start_pass(0);
  try {
    barren.next();
    ADD_FAILURE() << "a pass without a sample did not stop the stream";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gave no sample in pass 0 (2 failed"), std::string::npos) << e.what();
  }
  options.max_failed_share = 0.3;  // 2 of 5 fail: more than 30%
  SampleStream limited(shard_list(join(urls)), options);
  limited.start_pass(0);
  try {
    keys(limited, 13);
    ADD_FAILURE() << "a pass with 2 of 5 shards failed went on past --max-failed-shards 0.3";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--max-failed-shards"), std::string::npos) << e.what();
  }
}

std::shared_ptr<SamplePipeline> small_pipeline() {
  PipelineOptions options;
  options.views = {ViewRecipe::kClip};
  options.image_size = 8;
  options.context_length = 6;
  options.tokenizer = [](const std::string& caption) { return std::vector<int64_t>{1, static_cast<int64_t>(caption.size()), 2}; };
  return std::make_shared<SamplePipeline>(options);
}

std::vector<Batch> read_epoch(StreamingLoader& loader, int64_t epoch, int64_t start_step = 0, int64_t steps = -1) {
  loader.start_epoch(epoch, start_step);
  std::vector<Batch> batches;
  while (steps != 0) {
    std::optional<Batch> batch = loader.next();
    if (!batch) break;
    batches.push_back(std::move(*batch));
    --steps;
  }
  return batches;
}

void expect_same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t s = 0; s < a.size(); ++s) {
    EXPECT_EQ(a[s].step, b[s].step);
    EXPECT_EQ(a[s].sources, b[s].sources) << "step " << a[s].step;
    EXPECT_TRUE(a[s].views[0].equal(b[s].views[0])) << "step " << a[s].step;
    EXPECT_TRUE(a[s].tokens.equal(b[s].tokens)) << "step " << a[s].step;
  }
}

TEST(StreamingLoader, BatchesAreTheSameForAnyWorkerCountAndAfterAMidEpochRestore) {
  TemporaryFolder folder;
  const auto shards = shard_list(join(write_shards(folder, 4, 10)));
  // A corrupt image in one shard: replaced by the next sample of its batch, counted once.
  {
    TarWriter tar(folder.file("bad.tar"));
    tar.add("bad0.jpg", "not a jpeg");
    tar.add("bad0.txt", "a broken image");
    tar.finish();
  }
  auto with_bad = std::make_shared<ShardList>(*shards);
  with_bad->urls.push_back(folder.file("bad.tar"));
  with_bad->weights.push_back(1.0);
  with_bad->sizes.push_back(-1);
  LoaderOptions loader;
  loader.batch_size = 4;
  loader.seed = 3;
  loader.pin_memory = false;
  loader.warn = [](const std::string&) {};
  StreamingOptions streaming;
  streaming.samples_per_epoch = 41;  // 10 steps of 4
  streaming.stream.readers = 2;
  streaming.stream.shuffle_buffer = 6;
  const auto read_two_epochs = [&](int workers) {
    loader.workers = workers;
    StreamingLoader one(with_bad, small_pipeline(), loader, streaming);
    std::vector<Batch> batches = read_epoch(one, 0);
    for (Batch& batch : read_epoch(one, 1)) batches.push_back(std::move(batch));
    EXPECT_GE(one.counters().at("bad_samples"), 1) << "the bad image";
    for (const Batch& batch : batches) {
      for (const std::string& source : batch.sources) EXPECT_EQ(source.find(":bad0"), std::string::npos) << "not replaced";
    }
    return batches;
  };
  const std::vector<Batch> reference = read_two_epochs(1);
  ASSERT_EQ(reference.size(), 20u);
  expect_same_batches(reference, read_two_epochs(3));

  for (int64_t stop_after : {3, 10, 13}) {  // within the first epoch, at its end, within the second
    loader.workers = 2;
    std::string position;
    {
      StreamingLoader first(with_bad, small_pipeline(), loader, streaming);
      read_epoch(first, 0, 0, std::min<int64_t>(stop_after, 10));
      if (stop_after > 10) read_epoch(first, 1, 0, stop_after - 10);
      position = first.position();
    }
    StreamingLoader resumed(with_bad, small_pipeline(), loader, streaming);
    resumed.restore_position(position);
    const int64_t epoch = stop_after / 10, step = stop_after % 10;
    std::vector<Batch> rest = read_epoch(resumed, epoch, step);
    if (epoch == 0) {
      for (Batch& batch : read_epoch(resumed, 1)) rest.push_back(std::move(batch));
    }
    expect_same_batches(std::vector<Batch>(reference.begin() + stop_after, reference.end()), rest);
  }
}

}  // namespace
}  // namespace slipstream
