// A shard on a local (or network-mounted) file system.
#pragma once
#include <string>

#include "slipstream/data/streaming/byte_stream.h"

namespace slipstream {

class LocalFileStream : public ByteStream {
 public:
  explicit LocalFileStream(const std::string& path);  // throws ShardError when it cannot be opened
  ~LocalFileStream() override;
  size_t read(char* buffer, size_t size) override;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace slipstream
