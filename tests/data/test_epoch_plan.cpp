// The epoch plan: a permutation per (seed, epoch), equal contiguous parts per rank that together
// cover every sample, shards kept together, and no rank left empty with fewer shards than ranks.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "slipstream/core/error.h"
#include "slipstream/data/epoch_plan.h"

namespace slipstream {
namespace {

std::vector<int64_t> all_ranks(int64_t size, const std::vector<int64_t>& shards, int64_t world, int64_t epoch, uint64_t seed = 3) {
  std::vector<int64_t> joined;
  for (int64_t rank = 0; rank < world; ++rank) {
    const auto plan = plan_epoch(size, shards, {seed, epoch, rank, world, true});
    EXPECT_EQ(static_cast<int64_t>(plan.size()), samples_per_rank(size, world));
    joined.insert(joined.end(), plan.begin(), plan.end());
  }
  return joined;
}

TEST(EpochPlan, RanksSplitOnePermutationThatChangesWithTheEpoch) {
  const auto epoch0 = all_ranks(100, {}, 4, 0);
  std::vector<int64_t> sorted = epoch0;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 100; ++i) EXPECT_EQ(sorted[static_cast<size_t>(i)], i);
  EXPECT_EQ(epoch0, all_ranks(100, {}, 4, 0)) << "the plan must be a function of (seed, epoch)";
  EXPECT_NE(epoch0, all_ranks(100, {}, 4, 1));
  EXPECT_NE(epoch0, all_ranks(100, {}, 4, 0, 4));
  const auto unshuffled = plan_epoch(10, {}, {0, 0, 1, 2, false});
  EXPECT_EQ(unshuffled, (std::vector<int64_t>{5, 6, 7, 8, 9}));
}

TEST(EpochPlan, UnevenSizesWrapSoEveryRankHasTheSameCount) {
  const auto joined = all_ranks(10, {}, 4, 2);  // 3 per rank, two samples read twice
  EXPECT_EQ(joined.size(), 12u);
  EXPECT_EQ(std::set<int64_t>(joined.begin(), joined.end()).size(), 10u);
  const auto tiny = all_ranks(2, {}, 5, 0);  // fewer samples than ranks: nobody is left empty
  EXPECT_EQ(tiny.size(), 5u);
}

TEST(EpochPlan, ShardsStayTogetherAndAreShuffledAsWholes) {
  const std::vector<int64_t> shards = {10, 10, 10, 10};
  const auto plan = plan_epoch(40, shards, {9, 0, 0, 1, true});
  for (size_t start = 0; start < 40; start += 10) {
    std::set<int64_t> shard;
    for (size_t i = start; i < start + 10; ++i) shard.insert(plan[i] / 10);
    EXPECT_EQ(shard.size(), 1u) << "a shard's samples must be contiguous in the order";
  }
  // Two ranks over four shards read two shards each.
  for (int64_t rank = 0; rank < 2; ++rank) {
    const auto part = plan_epoch(40, shards, {9, 0, rank, 2, true});
    std::set<int64_t> touched;
    for (int64_t index : part) touched.insert(index / 10);
    EXPECT_EQ(touched.size(), 2u);
  }
  // Fewer shards than ranks: every rank still gets samples.
  const auto few = all_ranks(20, {10, 10}, 8, 0);
  EXPECT_EQ(few.size(), 24u);
  EXPECT_THROW(plan_epoch(40, {10, 10}, {0, 0, 0, 1, true}), ConfigError);
  EXPECT_THROW(plan_epoch(0, {}, {}), ConfigError);
  EXPECT_THROW(plan_epoch(5, {}, {0, 0, 2, 2, true}), ConfigError);
}

}  // namespace
}  // namespace slipstream
