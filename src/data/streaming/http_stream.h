// An http:// or https:// shard through libcurl (multi interface, read as a pull stream): redirects
// followed, HTTP errors fail the shard, a transfer that breaks or stalls is retried from the byte
// it reached (a Range request; servers without ranges are read again and skipped ahead).
#pragma once
#include <cstdint>
#include <string>

#include "slipstream/data/streaming/byte_stream.h"

namespace slipstream {

class HttpStream : public ByteStream {
 public:
  HttpStream(const std::string& url, const ShardSourceOptions& options);
  ~HttpStream() override;
  HttpStream(const HttpStream&) = delete;
  HttpStream& operator=(const HttpStream&) = delete;
  size_t read(char* buffer, size_t size) override;

 private:
  static size_t on_data(char* data, size_t size, size_t count, void* self);
  void start_transfer();            // from received_ (a Range request when past 0)
  void stop_transfer();
  void finish_transfer(int result);  // a CURLcode: ends the stream, retries or throws ShardError

  std::string url_;
  ShardSourceOptions options_;
  void* multi_ = nullptr;  // CURLM*
  void* easy_ = nullptr;   // CURL*
  std::string pending_;    // received, not yet read
  size_t pending_at_ = 0;
  uint64_t received_ = 0;  // bytes of the shard received over all attempts
  uint64_t resume_from_ = 0, skip_ = 0;
  std::string range_;  // "N-" while taking up a broken transfer
  bool checked_range_ = false, ended_ = false;
  int attempt_ = 0;
  char error_[256] = {};
};

}  // namespace slipstream
