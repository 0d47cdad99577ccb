// Where pre-training's batches come from: --dataset and its flags turned into a loader. Every
// corpus is read by random access (the Loader over a Dataset) except WebDataset shards when
// streamed: --streaming on, or auto with a pipe: or http(s) shard, --train-num-samples or
// --dataset-resampled (the StreamingLoader over the shard list).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "slipstream/data/batch_loader.h"
#include "slipstream/data/loader.h"
#include "slipstream/data/sample_pipeline.h"
#include "slipstream/train/pretrain_config.h"

namespace slipstream {

struct PretrainingData {
  std::unique_ptr<BatchLoader> loader;
  int64_t samples_per_epoch = 0;  // over all ranks
  std::string description;        // one line for the log
  bool streamed = false;
};

// `synthetic_image_size`: the model's, for --dataset synthetic. Throws ConfigError naming the flag.
PretrainingData open_pretraining_data(const PretrainConfig& config, std::shared_ptr<const SamplePipeline> pipeline,
                                      const LoaderOptions& loader_options, int64_t synthetic_image_size);

}  // namespace slipstream
