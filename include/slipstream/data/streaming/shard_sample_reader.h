// The image-caption samples of one streamed WebDataset shard, in shard order: tar members grouped
// by key (webdataset_members.h), the image (.jpg .jpeg .png .webp .bmp) and the caption (.txt, else
// the .json's "caption"/"text", as img2dataset writes them). Keys without an image or a caption
// (a failed download, a stray file) are skipped and counted.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "slipstream/data/streaming/byte_stream.h"
#include "slipstream/data/streaming/tar_stream.h"

namespace slipstream {

struct ShardSample {
  std::string key;
  std::string image;    // encoded bytes
  std::string caption;
};

class ShardSampleReader {
 public:
  ShardSampleReader(std::unique_ptr<ByteStream> stream, std::string url);
  // The next complete sample; false at the end of the shard. Throws ShardError when the shard
  // fails (every sample before the failure has been returned).
  bool next(ShardSample& sample);
  int64_t incomplete() const { return incomplete_; }  // keys skipped so far
  const std::string& url() const { return url_; }

 private:
  std::unique_ptr<ByteStream> stream_;
  std::string url_;
  TarStreamReader tar_;
  std::optional<TarEntry> held_;  // the first member of the next sample, read ahead
  bool ended_ = false;
  int64_t incomplete_ = 0;
};

}  // namespace slipstream
