#include "slipstream/data/epoch_plan.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "slipstream/core/error.h"
#include "slipstream/data/image/augmentation.h"

namespace slipstream {
namespace {

// The stream of sample_rng reserved for the epoch's order (samples use the streams from 0 up).
constexpr uint64_t kOrderStream = ~uint64_t{0};
constexpr uint64_t kOrderIndex = ~uint64_t{0};

}  // namespace

int64_t samples_per_rank(int64_t dataset_size, int64_t world_size) { return (dataset_size + world_size - 1) / world_size; }

std::vector<int64_t> plan_epoch(int64_t dataset_size, const std::vector<int64_t>& shard_sizes, const EpochPlanOptions& options) {
  if (dataset_size <= 0) throw ConfigError("the dataset is empty");
  if (options.world_size <= 0 || options.rank < 0 || options.rank >= options.world_size) {
    throw ConfigError("rank " + std::to_string(options.rank) + " outside world size " + std::to_string(options.world_size));
  }
  std::vector<int64_t> order(static_cast<size_t>(dataset_size));
  std::iota(order.begin(), order.end(), 0);
  if (options.shuffle) {
    std::mt19937_64 rng = sample_rng(options.seed, static_cast<uint64_t>(options.epoch), kOrderIndex, kOrderStream);
    if (shard_sizes.size() > 1) {
      std::vector<std::pair<int64_t, int64_t>> shards;  // [begin, end)
      int64_t begin = 0;
      for (int64_t size : shard_sizes) {
        shards.emplace_back(begin, begin + size);
        begin += size;
      }
      if (begin != dataset_size) throw ConfigError("shard sizes do not add up to the dataset size");
      std::shuffle(shards.begin(), shards.end(), rng);
      auto out = order.begin();
      for (const auto& [first, last] : shards) {
        const auto start = out;
        for (int64_t i = first; i < last; ++i) *out++ = i;
        std::shuffle(start, out, rng);
      }
    } else {
      std::shuffle(order.begin(), order.end(), rng);
    }
  }
  const int64_t count = samples_per_rank(dataset_size, options.world_size);
  std::vector<int64_t> plan(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) plan[static_cast<size_t>(i)] = order[static_cast<size_t>((options.rank * count + i) % dataset_size)];
  return plan;
}

}  // namespace slipstream
