// Which dataset indices one rank reads in one epoch, and in what order. The whole order is a
// function of (seed, epoch): a permutation of the samples, or, for sharded storage, a permutation
// of the shards with each shard's samples permuted inside it (so a rank reads few shards). The
// order is cut into world_size equal contiguous parts, wrapping around when the samples do not
// divide evenly (every rank gets the same count, even with fewer shards or samples than ranks).
#pragma once
#include <cstdint>
#include <vector>

namespace slipstream {

struct EpochPlanOptions {
  uint64_t seed = 0;
  int64_t epoch = 0;
  int64_t rank = 0;
  int64_t world_size = 1;
  bool shuffle = true;
};

// `shard_sizes`: Dataset::shard_sizes() (empty or summing to dataset_size). Throws ConfigError on
// an empty dataset or a rank outside [0, world_size).
std::vector<int64_t> plan_epoch(int64_t dataset_size, const std::vector<int64_t>& shard_sizes,
                                const EpochPlanOptions& options);

// Samples per rank per epoch: ceil(dataset_size / world_size).
int64_t samples_per_rank(int64_t dataset_size, int64_t world_size);

}  // namespace slipstream
