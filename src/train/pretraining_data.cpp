#include "slipstream/train/pretraining_data.h"

#include "slipstream/core/error.h"
#include "slipstream/data/datasets/open_dataset.h"
#include "slipstream/data/streaming/byte_stream.h"
#include "slipstream/data/streaming/shard_list.h"
#include "slipstream/data/streaming/streaming_loader.h"

namespace slipstream {
namespace {

std::string shard_pattern(const PretrainConfig& config) {
  // --root names the shards when given (SLIP's default --metadata, yfcc15m.pkl, is then no pattern).
  return config.root.empty() ? config.metadata : config.root;
}

std::vector<double> parse_factors(const std::string& text) {
  std::vector<double> factors;
  if (text.empty()) return factors;
  size_t start = 0;
  while (true) {
    const size_t end = text.find("::", start);
    const std::string item = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    try {
      size_t used = 0;
      factors.push_back(std::stod(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::logic_error&) {
      throw ConfigError("--train-data-upsampling-factors '" + text + "': expected numbers joined by '::', e.g. 1::2");
    }
    if (end == std::string::npos) break;
    start = end + 2;
  }
  return factors;
}

}  // namespace

namespace {

// Whether the shards stream: asked for, implied by open_clip's epoch flags, or not local files.
bool streams_shards(const PretrainConfig& config, const ShardList& shards) {
  if (config.streaming == "on" || config.train_num_samples > 0 || config.dataset_resampled) return true;
  for (const std::string& url : shards.urls) {
    if (shard_source_kind(url) != ShardSourceKind::kLocalFile) return true;
  }
  return false;
}

}  // namespace

PretrainingData open_pretraining_data(const PretrainConfig& config, std::shared_ptr<const SamplePipeline> pipeline,
                                      const LoaderOptions& loader_options, int64_t synthetic_image_size) {
  PretrainingData data;
  std::shared_ptr<ShardList> shards;  // the shards, parsed once, when they may stream
  if (config.dataset == "webdataset" && config.streaming != "off") {
    shards = std::make_shared<ShardList>(
        parse_shard_list(shard_pattern(config), parse_factors(config.train_data_upsampling_factors)));
  }
  if (!shards || !streams_shards(config, *shards)) {
    DatasetOptions options;
    options.dataset = config.dataset;
    options.root = config.root;
    options.metadata = config.metadata;
    options.csv.image_column = config.csv_img_key;
    options.csv.caption_column = config.csv_caption_key;
    if (!config.csv_separator.empty()) options.csv.separator = config.csv_separator[0];
    options.synthetic_image_size = synthetic_image_size;
    options.synthetic_size = config.synthetic_samples;
    const DatasetPtr dataset = open_dataset(options);
    data.samples_per_epoch = dataset->size();
    data.description = dataset->description();
    data.loader = std::make_unique<Loader>(dataset, std::move(pipeline), loader_options);
    return data;
  }
  if (!config.dataset_resampled && !config.train_data_upsampling_factors.empty()) {
    throw ConfigError("--train-data-upsampling-factors needs --dataset-resampled (as open_clip's)");
  }
  const std::string counted = read_shard_sizes(*shards);
  const int64_t known = shards->known_samples();
  data.samples_per_epoch = config.train_num_samples > 0 ? config.train_num_samples : known;
  if (data.samples_per_epoch <= 0) {
    throw ConfigError("--train-num-samples: the shards' sample counts are not all known (no sizes.json or img2dataset "
                      "*_stats.json beside them), so give the samples of an epoch, or count them once with "
                      "`slip_tools index --dataset webdataset --root PATTERN`");
  }
  StreamingOptions streaming;
  streaming.samples_per_epoch = data.samples_per_epoch;
  SampleStreamOptions& stream = streaming.stream;
  stream.readers = static_cast<int>(config.shard_readers);
  stream.shuffle_buffer = config.shuffle_buffer;
  stream.resampled = config.dataset_resampled;
  stream.fail_on_shard_error = config.shard_errors == "fail";
  stream.max_failed_share = config.max_failed_shards;
  stream.source.stall_timeout_seconds = config.shard_timeout;
  data.streamed = true;
  data.description = "webdataset streamed from " + std::to_string(shards->urls.size()) + " shards" +
                     (config.dataset_resampled ? " (resampled)" : "") + ", " + std::to_string(data.samples_per_epoch) +
                     " samples per epoch (" +
                     (config.train_num_samples > 0 ? std::string("--train-num-samples") : counted) + "), " +
                     std::to_string(config.shard_readers) + " shard readers, shuffle buffer " +
                     std::to_string(config.shuffle_buffer);
  data.loader = std::make_unique<StreamingLoader>(std::move(shards), std::move(pipeline), loader_options, streaming);
  return data;
}

}  // namespace slipstream
