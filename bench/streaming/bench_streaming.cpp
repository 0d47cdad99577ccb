// Benchmark (not a test): the data side against corpus size. `generate` writes a WebDataset corpus
// of small samples (a 32 px JPEG and a caption each, 1,000 a shard, with a sizes.json); `read`
// opens it the way slip_pretrain would (random access: the header scan and the sample index;
// streaming: the shard list and the stream) and reads batches through the CLIP view's decode and
// crop, reporting as one JSON line the resident memory the data side added, the time to the first
// batch and the samples per second after it. bench/streaming/run.sh runs it over 10^4 to 10^6
// samples, from local files, pipe:cat and a loopback HTTP server.
//   bench_streaming generate --out DIR --samples N
//   bench_streaming read --mode random|streaming --root PATTERN [--steps 200] [--batch 256] [--workers 2]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "slipstream/core/error.h"
#include "slipstream/data/datasets/webdataset.h"
#include "slipstream/data/formats/tar_writer.h"
#include "slipstream/data/loader.h"
#include "slipstream/data/streaming/shard_list.h"
#include "slipstream/data/streaming/streaming_loader.h"

namespace {

using Clock = std::chrono::steady_clock;

// The process's resident memory now, in MiB (VmRSS).
double resident_mib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1.0;
}

double peak_mib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1.0;
}

void generate(const std::string& out, int64_t samples, int64_t per_shard) {
  std::filesystem::create_directories(out);
  nlohmann::ordered_json sizes;
  const int64_t shards = (samples + per_shard - 1) / per_shard;
  for (int64_t s = 0; s < shards; ++s) {
    char name[32];
    std::snprintf(name, sizeof(name), "%06lld.tar", static_cast<long long>(s));
    slipstream::TarWriter tar(out + "/" + name);
    const int64_t end = std::min(samples, (s + 1) * per_shard);
    for (int64_t i = s * per_shard; i < end; ++i) {
      cv::Mat image(32, 32, CV_8UC3, cv::Scalar(static_cast<double>(i % 251), static_cast<double>(i % 241), 90));
      std::vector<uchar> jpeg;
      cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, 90});
      char key[32];
      std::snprintf(key, sizeof(key), "%09lld", static_cast<long long>(i));
      tar.add(std::string(key) + ".jpg", std::string(jpeg.begin(), jpeg.end()));
      tar.add(std::string(key) + ".txt", "a small picture, number " + std::to_string(i));
    }
    tar.finish();
    sizes[name] = end - s * per_shard;
  }
  std::ofstream(out + "/sizes.json") << sizes.dump(1) << "\n";
  std::printf("wrote %lld samples in %lld shards to %s\n", static_cast<long long>(samples), static_cast<long long>(shards),
              out.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_streaming: the data side's memory, start-up and throughput against corpus size"};
  app.require_subcommand(1);
  auto* make = app.add_subcommand("generate", "Write a corpus of small samples");
  std::string out;
  int64_t samples = 10000, per_shard = 1000;
  make->add_option("--out", out)->required();
  make->add_option("--samples", samples)->capture_default_str();
  make->add_option("--per-shard", per_shard)->capture_default_str();
  auto* read = app.add_subcommand("read", "Open a corpus as slip_pretrain does and read batches");
  std::string mode = "streaming", root;
  int64_t steps = 200, batch = 256, total_samples = 0;
  int workers = 2, readers = 4;
  read->add_option("--mode", mode, "random or streaming")->capture_default_str();
  read->add_option("--root", root, "The shards")->required();
  read->add_option("--steps", steps)->capture_default_str();
  read->add_option("--batch", batch)->capture_default_str();
  read->add_option("--workers", workers)->capture_default_str();
  read->add_option("--shard-readers", readers)->capture_default_str();
  read->add_option("--train-num-samples", total_samples, "streaming: the epoch (0: sizes.json)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    if (make->parsed()) {
      generate(out, samples, per_shard);
      return 0;
    }
    at::set_num_threads(1);
    slipstream::PipelineOptions pipeline;
    pipeline.views = {slipstream::ViewRecipe::kClip};
    pipeline.image_size = 32;
    slipstream::LoaderOptions loader;
    loader.batch_size = batch;
    loader.workers = workers;
    loader.pin_memory = false;
    const double before = resident_mib();
    const Clock::time_point start = Clock::now();
    std::unique_ptr<slipstream::BatchLoader> reader;
    int64_t corpus = 0;
    if (mode == "random") {
      auto dataset = std::make_shared<slipstream::WebDataset>(root);
      corpus = dataset->size();
      reader = std::make_unique<slipstream::Loader>(dataset, std::make_shared<const slipstream::SamplePipeline>(pipeline), loader);
    } else if (mode == "streaming") {
      auto shards = std::make_shared<slipstream::ShardList>(slipstream::parse_shard_list(root));
      slipstream::read_shard_sizes(*shards);
      corpus = total_samples > 0 ? total_samples : shards->known_samples();
      slipstream::StreamingOptions streaming;
      streaming.samples_per_epoch = corpus;
      streaming.stream.readers = readers;
      reader = std::make_unique<slipstream::StreamingLoader>(shards, std::make_shared<const slipstream::SamplePipeline>(pipeline),
                                                             loader, streaming);
    } else {
      throw slipstream::ConfigError("--mode: random or streaming");
    }
    int64_t epoch = 0, read_steps = 0, read_samples = 0;
    reader->start_epoch(epoch);
    double first_batch = -1.0, after_first = 0.0;
    Clock::time_point timing_from;
    while (read_steps < steps) {
      std::optional<slipstream::Batch> next = reader->next();
      if (!next) {
        reader->start_epoch(++epoch);
        continue;
      }
      if (first_batch < 0) {
        first_batch = std::chrono::duration<double>(Clock::now() - start).count();
        after_first = resident_mib() - before;
        timing_from = Clock::now();
      } else {
        read_samples += next->size();
      }
      ++read_steps;
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - timing_from).count();
    nlohmann::ordered_json result = {{"mode", mode}, {"root", root}, {"corpus_samples", corpus},
                                     {"time_to_first_batch_s", first_batch},
                                     {"data_rss_at_first_batch_mib", after_first},
                                     {"data_rss_after_mib", resident_mib() - before}, {"peak_rss_mib", peak_mib()},
                                     {"samples_per_second", static_cast<double>(read_samples) / seconds},
                                     {"batch", batch}, {"workers", workers}, {"steps", steps}};
    if (mode == "streaming") result["shard_readers"] = readers;
    std::cout << result.dump() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_streaming: %s\n", e.what());
    return 1;
  }
}
