// A shard's bytes read front to back once, from a local file, a command's standard output
// (webdataset's "pipe:aws s3 cp s3://bucket/x.tar -") or an HTTP(S) URL (libcurl), and the error
// one failed shard raises.
#pragma once
#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "slipstream/core/error.h"

namespace slipstream {

// One shard of a streamed corpus failed: missing, not a tar, truncated, an HTTP error, a command
// that exited non-zero or sent nothing for the stall timeout. The stream logs it once with the
// shard's URL, counts it and goes on with the other shards (--shard-errors skip).
class ShardError : public Error {
 public:
  ShardError(const std::string& url, const std::string& problem) : Error(url + ": " + problem), url_(url), problem_(problem) {}
  const std::string& url() const { return url_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string url_, problem_;
};

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Up to `size` bytes into `buffer`; 0 at the end of the stream. Throws ShardError naming the URL
  // and what went wrong.
  virtual size_t read(char* buffer, size_t size) = 0;
};

struct ShardSourceOptions {
  double stall_timeout_seconds = 60.0;    // no byte for this long: the shard fails (--shard-timeout)
  double connect_timeout_seconds = 30.0;  // HTTP: connecting
  int retries = 3;                        // HTTP: attempts after the first on a transient failure
  // Set by the owner to end a read that is waiting (checked about once a second); the read then
  // throws ShardError "cancelled".
  std::shared_ptr<const std::atomic<bool>> cancelled;
};

// What kind of source a shard URL names: "pipe:COMMAND", "http://..."/"https://...", else a
// local path ("file://" stripped).
enum class ShardSourceKind { kLocalFile, kPipe, kHttp };
ShardSourceKind shard_source_kind(const std::string& url);

// Opens the shard; nothing is read yet. Throws ShardError (a missing file is reported here; a
// command or URL fails at the first read) or ConfigError for an http(s) URL in a build without libcurl.
std::unique_ptr<ByteStream> open_shard(const std::string& url, const ShardSourceOptions& options);

// Whether this build reads http(s) URLs itself (libcurl found at configure time).
bool http_sources_available();

}  // namespace slipstream
