// webdataset's "pipe:COMMAND" shards: the command runs under /bin/sh in a process group of its own
// and its standard output is the tar stream. The shard fails when the command exits non-zero (or
// is killed), or sends nothing for the stall timeout; a stream closed early ends the command.
#pragma once
#include <sys/types.h>

#include <string>

#include "slipstream/data/streaming/byte_stream.h"

namespace slipstream {

class PipeStream : public ByteStream {
 public:
  PipeStream(const std::string& url, const std::string& command, const ShardSourceOptions& options);
  ~PipeStream() override;
  size_t read(char* buffer, size_t size) override;

 private:
  void end_command();  // SIGTERM to the group, then SIGKILL if it lingers; reaps the child

  std::string url_;
  ShardSourceOptions options_;
  int fd_ = -1;
  pid_t pid_ = -1;
};

}  // namespace slipstream
