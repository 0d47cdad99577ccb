// The shards of a streamed corpus, as open_clip's --train-data names them: brace patterns
// ("s3/{00000..41407}.tar"), several lists joined by "::", each list optionally weighted
// (--train-data-upsampling-factors, resampled mode only), each shard a local path, "pipe:COMMAND"
// or an http(s) URL. Sample counts, when the corpus has them, set the epoch length and the ETA:
// a sizes.json beside the shards ({"00000.tar": 9871, ...}: webdataset's and open_clip's, and what
// `slip_tools index --dataset webdataset` writes) or img2dataset's NNNNN_stats.json ("successes").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace slipstream {

struct ShardList {
  std::vector<std::string> urls;
  std::vector<double> weights;  // per shard: its list's upsampling factor
  std::vector<int64_t> sizes;   // samples per shard; -1 where unknown
  // The sum of the sizes; -1 when any is unknown.
  int64_t known_samples() const;
};

// Throws ConfigError for a malformed pattern, an empty list, or factors that do not match the lists.
ShardList parse_shard_list(const std::string& spec, const std::vector<double>& upsampling_factors = {});

// Counts each shard's complete samples by reading it through (`threads` at once); a shard that
// fails is counted as far as it read, and `problems` gets a line for it.
std::vector<int64_t> count_shard_samples(const ShardList& list, int threads, std::vector<std::string>& problems);

// The sizes.json of `counts` (open_clip's format, keyed by each shard's file name); pipe: shards,
// which have no file name, are left out.
std::string sizes_json(const ShardList& list, const std::vector<int64_t>& counts);

// Fills `list.sizes` from sizes.json files beside local shards (or fetched beside http(s) ones) and
// from local img2dataset *_stats.json files; pipe: shards stay unknown. Reads each folder's
// sizes.json once. Returns a line saying where the counts came from ("" when none was found).
std::string read_shard_sizes(ShardList& list);

}  // namespace slipstream
