#include "http_stream.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

namespace slipstream {
namespace {

void initialise_curl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// HTTP statuses worth another attempt: timeouts, rate limits and server errors.
bool transient_status(long status) { return status == 408 || status == 429 || status >= 500; }

}  // namespace

HttpStream::HttpStream(const std::string& url, const ShardSourceOptions& options) : url_(url), options_(options) {
  initialise_curl();
  multi_ = curl_multi_init();
  if (!multi_) throw ShardError(url, "libcurl could not start");
  start_transfer();
}

HttpStream::~HttpStream() {
  stop_transfer();
  if (multi_) curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void HttpStream::start_transfer() {
  CURL* easy = curl_easy_init();
  if (!easy) throw ShardError(url_, "libcurl could not start a transfer");
  easy_ = easy;
  error_[0] = '\0';
  resume_from_ = received_;
  skip_ = 0;
  checked_range_ = false;
  curl_easy_setopt(easy, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &HttpStream::on_data);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_);
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_FAILONERROR, 1L);  // an HTTP status >= 400 fails the transfer
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);      // many threads
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "slipstream");
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_seconds * 1000));
  // A stall: under 1 byte/s for the stall timeout.
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, std::max(1L, static_cast<long>(options_.stall_timeout_seconds)));
  // A Range request (not CURLOPT_RESUME_FROM, which fails outright on a server without ranges): a
  // 206 carries the rest, a 200 the whole shard again, whose first bytes on_data skips.
  range_ = resume_from_ > 0 ? std::to_string(resume_from_) + "-" : "";
  curl_easy_setopt(easy, CURLOPT_RANGE, range_.empty() ? nullptr : range_.c_str());
  curl_multi_add_handle(static_cast<CURLM*>(multi_), easy);
}

void HttpStream::stop_transfer() {
  if (!easy_) return;
  curl_multi_remove_handle(static_cast<CURLM*>(multi_), static_cast<CURL*>(easy_));
  curl_easy_cleanup(static_cast<CURL*>(easy_));
  easy_ = nullptr;
}

size_t HttpStream::on_data(char* data, size_t size, size_t count, void* self_pointer) {
  auto& self = *static_cast<HttpStream*>(self_pointer);
  size_t bytes = size * count;
  if (!self.checked_range_) {
    self.checked_range_ = true;
    long status = 0;
    curl_easy_getinfo(static_cast<CURL*>(self.easy_), CURLINFO_RESPONSE_CODE, &status);
    if (self.resume_from_ > 0 && status == 200) self.skip_ = self.resume_from_;  // no Range support: read again
  }
  const size_t skipped = static_cast<size_t>(std::min<uint64_t>(self.skip_, bytes));
  self.skip_ -= skipped;
  self.pending_.append(data + skipped, bytes - skipped);
  self.received_ += bytes - skipped;
  return bytes;
}

void HttpStream::finish_transfer(int result) {
  const CURLcode code = static_cast<CURLcode>(result);
  long status = 0;
  curl_easy_getinfo(static_cast<CURL*>(easy_), CURLINFO_RESPONSE_CODE, &status);
  stop_transfer();
  if (code == CURLE_OK) {
    ended_ = true;
    return;
  }
  std::string reason = code == CURLE_HTTP_RETURNED_ERROR ? "HTTP " + std::to_string(status)
                                                         : std::string(error_[0] ? error_ : curl_easy_strerror(code));
  const bool permanent = code == CURLE_HTTP_RETURNED_ERROR && !transient_status(status);
  if (permanent || code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL) throw ShardError(url_, reason);
  if (attempt_ >= options_.retries) {
    throw ShardError(url_, reason + " (after " + std::to_string(attempt_ + 1) + " attempts)");
  }
  // Back off 0.5 s, 1 s, 2 s ... (at most 8 s), then continue from the byte reached.
  for (int waited = 0; waited < std::min(8000, 500 << std::min(attempt_, 4)); waited += 100) {
    if (options_.cancelled && options_.cancelled->load()) throw ShardError(url_, "cancelled");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ++attempt_;
  start_transfer();
}

size_t HttpStream::read(char* buffer, size_t size) {
  while (pending_at_ == pending_.size()) {
    pending_.clear();
    pending_at_ = 0;
    if (ended_) return 0;
    int running = 0;
    const CURLMcode performed = curl_multi_perform(static_cast<CURLM*>(multi_), &running);
    if (performed != CURLM_OK) throw ShardError(url_, curl_multi_strerror(performed));
    if (!pending_.empty()) break;
    if (running == 0) {
      int left = 0;
      int result = CURLE_OK;
      while (CURLMsg* message = curl_multi_info_read(static_cast<CURLM*>(multi_), &left)) {
        if (message->msg == CURLMSG_DONE) result = message->data.result;
      }
      finish_transfer(result);
      continue;
    }
    if (options_.cancelled && options_.cancelled->load()) throw ShardError(url_, "cancelled");
    curl_multi_poll(static_cast<CURLM*>(multi_), nullptr, 0, 1000, nullptr);
  }
  const size_t n = std::min(size, pending_.size() - pending_at_);
  std::memcpy(buffer, pending_.data() + pending_at_, n);
  pending_at_ += n;
  return n;
}

}  // namespace slipstream
