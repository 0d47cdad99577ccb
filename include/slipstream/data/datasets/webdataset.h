// WebDataset shards (open_clip, img2dataset): tar files whose members sharing a key form a sample,
// e.g. 000123.jpg + 000123.txt (+ 000123.json; webdataset_members.h). At open every shard's headers are scanned (in
// parallel, images not read) so samples are addressed by index like any other dataset; shards are
// reported to the epoch plan, which shuffles shards and splits them across ranks.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "slipstream/data/datasets/dataset.h"

namespace slipstream {

struct WebDatasetStats {
  int64_t shards = 0;
  int64_t samples = 0;
  int64_t incomplete = 0;       // keys with no image or no caption, left out
  int64_t damaged_shards = 0;   // shards whose scan stopped early (truncated, corrupt header)
  std::vector<std::string> problems;  // one line per damaged shard
};

class WebDataset : public Dataset {
 public:
  // `shards`: a brace pattern ("shards/{00000..00099}.tar", "a.tar::b.tar"). Throws ConfigError if it
  // names no file, FileFormatError if a shard is missing; damaged shards keep their complete samples.
  explicit WebDataset(const std::string& shards, int scan_threads = 0);

  int64_t size() const override { return static_cast<int64_t>(samples_.size()); }
  RawSample get(int64_t index) const override;
  std::vector<int64_t> shard_sizes() const override { return shard_sizes_; }
  std::string description() const override;
  const WebDatasetStats& stats() const { return stats_; }

 private:
  struct Part {
    uint64_t offset = 0, size = 0;
  };
  struct Sample {
    int32_t shard = 0;
    Part image, text, json;  // size 0: absent
    std::string key;
  };
  std::string pattern_;
  std::vector<std::string> shard_paths_;
  std::vector<Sample> samples_;
  std::vector<int64_t> shard_sizes_;
  WebDatasetStats stats_;
};

}  // namespace slipstream
