// One shard read on a thread of its own into a bounded queue of samples, so that its network or
// command latency overlaps with everything else; the sample stream takes from it in order.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "slipstream/data/streaming/byte_stream.h"
#include "slipstream/data/streaming/shard_sample_reader.h"

namespace slipstream {

class ShardReaderThread {
 public:
  // Starts reading `url` at once, holding at most `read_ahead` samples ready.
  ShardReaderThread(std::string url, int64_t read_ahead, ShardSourceOptions options);
  ~ShardReaderThread();  // stops the thread (a command it started is ended)
  ShardReaderThread(const ShardReaderThread&) = delete;
  ShardReaderThread& operator=(const ShardReaderThread&) = delete;

  // The shard's next sample, waiting for it; nullopt at the shard's end, after which problem()
  // says why it ended early ("" when it was read whole).
  std::optional<ShardSample> take();
  const std::string& problem() const { return problem_; }
  int64_t incomplete() const { return incomplete_; }  // keys without an image or a caption, after the end
  const std::string& url() const { return url_; }

 private:
  void run();

  std::string url_;
  int64_t read_ahead_;
  ShardSourceOptions options_;
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<ShardSample> queue_;
  bool finished_ = false, stopping_ = false;
  std::string problem_;
  int64_t incomplete_ = 0;
  std::thread thread_;
};

}  // namespace slipstream
