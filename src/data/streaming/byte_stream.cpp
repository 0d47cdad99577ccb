#include "slipstream/data/streaming/byte_stream.h"

#include "local_file_stream.h"
#include "pipe_stream.h"
#ifdef SLIPSTREAM_WITH_CURL
#include "http_stream.h"
#endif

namespace slipstream {

ShardSourceKind shard_source_kind(const std::string& url) {
  if (url.rfind("pipe:", 0) == 0) return ShardSourceKind::kPipe;
  if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) return ShardSourceKind::kHttp;
  return ShardSourceKind::kLocalFile;
}

bool http_sources_available() {
#ifdef SLIPSTREAM_WITH_CURL
  return true;
#else
  return false;
#endif
}

std::unique_ptr<ByteStream> open_shard(const std::string& url, const ShardSourceOptions& options) {
  switch (shard_source_kind(url)) {
    case ShardSourceKind::kPipe:
      return std::make_unique<PipeStream>(url, url.substr(5), options);
    case ShardSourceKind::kHttp:
#ifdef SLIPSTREAM_WITH_CURL
      return std::make_unique<HttpStream>(url, options);
#else
      throw ConfigError(url + ": this build reads no http(s) URLs (libcurl was not found at configure time); use "
                        "pipe:curl -s -f -L " + url);
#endif
    case ShardSourceKind::kLocalFile:
      break;
  }
  return std::make_unique<LocalFileStream>(url.rfind("file://", 0) == 0 ? url.substr(7) : url);
}

}  // namespace slipstream
