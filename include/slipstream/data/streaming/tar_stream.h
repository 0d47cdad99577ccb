// A tar archive read front to back from a ByteStream, one regular file at a time (POSIX ustar, GNU
// long names, pax path records): what a streamed WebDataset shard is, with headers read as they
// arrive and nothing indexed ahead.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "slipstream/data/streaming/byte_stream.h"

namespace slipstream {

struct TarEntry {
  std::string name;  // path inside the archive
  std::string data;
};

class TarStreamReader {
 public:
  TarStreamReader(ByteStream& stream, std::string url);
  // The next regular file; false at the end of the archive (its zero blocks). Throws ShardError for
  // an empty stream, a first block that is no tar header ("not a tar archive"), a corrupt header, a
  // member over 1 GiB, or a stream that ends before the end-of-archive blocks ("truncated").
  bool next(TarEntry& entry);
  uint64_t offset() const { return offset_; }  // bytes of the archive consumed

 private:
  size_t read_up_to(char* out, size_t size);  // fewer than `size` only at the end of the stream
  void read_member(uint64_t size, std::string* out, const std::string& name);

  ByteStream& stream_;
  std::string url_;
  uint64_t offset_ = 0;
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;
  bool stream_ended_ = false;
};

}  // namespace slipstream
