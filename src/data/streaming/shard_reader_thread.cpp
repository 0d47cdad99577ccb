#include "slipstream/data/streaming/shard_reader_thread.h"

#include <algorithm>

namespace slipstream {

ShardReaderThread::ShardReaderThread(std::string url, int64_t read_ahead, ShardSourceOptions options)
    : url_(std::move(url)), read_ahead_(std::max<int64_t>(1, read_ahead)), options_(options) {
  options_.cancelled = cancelled_;
  thread_ = std::thread([this] { run(); });
}

ShardReaderThread::~ShardReaderThread() {
  cancelled_->store(true);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void ShardReaderThread::run() {
  std::string problem;
  int64_t incomplete = 0;
  try {
    ShardSampleReader reader(open_shard(url_, options_), url_);
    ShardSample sample;
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [&] { return stopping_ || static_cast<int64_t>(queue_.size()) < read_ahead_; });
        if (stopping_) break;
      }
      const bool more = reader.next(sample);
      incomplete = reader.incomplete();
      if (!more) break;
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(sample));
      changed_.notify_all();
    }
  } catch (const ShardError& e) {
    problem = e.problem();
  } catch (const std::exception& e) {
    problem = e.what();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  finished_ = true;
  problem_ = problem;
  incomplete_ = incomplete;
  changed_.notify_all();
}

std::optional<ShardSample> ShardReaderThread::take() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !queue_.empty() || finished_; });
  if (queue_.empty()) return std::nullopt;
  ShardSample sample = std::move(queue_.front());
  queue_.pop_front();
  changed_.notify_all();
  return sample;
}

}  // namespace slipstream
