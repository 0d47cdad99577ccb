#include "slipstream/data/streaming/streaming_loader.h"

#include <ATen/Context.h>

#include <algorithm>
#include <iostream>

#include "slipstream/core/error.h"

namespace slipstream {

StreamingLoader::StreamingLoader(std::shared_ptr<const ShardList> shards, std::shared_ptr<const SamplePipeline> pipeline,
                                 LoaderOptions loader, StreamingOptions streaming)
    : pipeline_(std::move(pipeline)), options_(std::move(loader)) {
  if (!pipeline_) throw ConfigError("streaming loader needs a pipeline");
  if (options_.batch_size <= 0) throw ConfigError("--batch-size must be positive");
  if (!options_.warn) options_.warn = [](const std::string& line) { std::cerr << line << "\n"; };
  const int64_t global_batch = options_.batch_size * options_.world_size;
  steps_per_epoch_ = streaming.samples_per_epoch / global_batch;
  if (steps_per_epoch_ < 1) {
    throw ConfigError("streaming: an epoch of " + std::to_string(streaming.samples_per_epoch) + " samples holds no batch of " +
                      std::to_string(options_.batch_size) + " x " + std::to_string(options_.world_size) +
                      " ranks (--train-num-samples)");
  }
  workers_count_ = options_.workers > 0 ? options_.workers : std::max(1u, std::thread::hardware_concurrency());
  prefetch_ = options_.prefetch_batches > 0 ? options_.prefetch_batches : 2 * workers_count_;
  pin_ = options_.pin_memory && at::hasCUDA();
  SampleStreamOptions stream = streaming.stream;
  stream.seed = options_.seed;
  stream.rank = options_.rank;
  stream.world_size = options_.world_size;
  if (!stream.warn) stream.warn = options_.warn;
  stream_ = std::make_unique<SampleStream>(std::move(shards), stream);
}

StreamingLoader::~StreamingLoader() { stop(); }

void StreamingLoader::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (pump_thread_.joinable()) pump_thread_.join();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

void StreamingLoader::start_epoch(int64_t epoch, int64_t start_step) {
  stop();
  if (start_step < 0 || start_step > steps_per_epoch_) {
    throw ConfigError("resume step " + std::to_string(start_step) + " outside the epoch's " +
                      std::to_string(steps_per_epoch_) + " steps");
  }
  if (!started_) {
    if (delivered_position_.empty()) stream_->start_pass(epoch); else stream_->restore(delivered_position_);
  } else if (!stream_at_delivered_) {
    stream_->restore(delivered_position_);  // it read ahead of the batches delivered
  }
  started_ = true;
  stream_at_delivered_ = true;
  epoch_ = epoch;
  end_step_ = steps_per_epoch_;
  next_to_pump_ = next_to_claim_ = next_to_deliver_ = start_step;
  raw_.clear();
  ready_.clear();
  error_ = nullptr;
  stopping_ = false;
  pump_thread_ = std::thread([this] { pump(); });
  for (int w = 0; w < workers_count_; ++w) threads_.emplace_back([this] { work(); });
}

void StreamingLoader::pump() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || next_to_pump_ >= end_step_ || next_to_pump_ < next_to_deliver_ + prefetch_; });
      if (stopping_ || next_to_pump_ >= end_step_) return;
    }
    RawBatch raw;
    try {
      raw.first_sample = stream_->counters().samples;
      for (int64_t row = 0; row < options_.batch_size; ++row) raw.samples.push_back(stream_->next());
      raw.position_after = stream_->state();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      stopping_ = true;
      changed_.notify_all();
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    stream_counters_ = stream_->counters();
    stream_at_delivered_ = false;
    raw_.emplace(next_to_pump_++, std::move(raw));
    changed_.notify_all();
  }
}

void StreamingLoader::work() {
  while (true) {
    int64_t step;
    RawBatch raw;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || next_to_claim_ >= end_step_ || raw_.count(next_to_claim_) > 0; });
      if (stopping_ || next_to_claim_ >= end_step_) return;
      step = next_to_claim_++;
      auto found = raw_.find(step);
      raw = std::move(found->second);
      raw_.erase(found);
    }
    try {
      std::string position = std::move(raw.position_after);
      Batch batch = build(step, std::move(raw));
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(step, std::make_pair(std::move(batch), std::move(position)));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      stopping_ = true;
    }
    changed_.notify_all();
  }
}

Batch StreamingLoader::build(int64_t step, RawBatch raw) {
  const auto rows = static_cast<int64_t>(raw.samples.size());
  std::vector<Example> examples;
  std::vector<int64_t> positions;
  int64_t replaced = 0;
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t position = raw.first_sample + row;  // in this rank's stream
    // Unique over ranks and the whole run: the key of the sample's augmentation draws.
    const int64_t key = position * options_.world_size + options_.rank;
    for (int64_t attempt = 0;; ++attempt) {
      if (attempt == rows) {
        throw Error("streaming: no sample of step " + std::to_string(step) + " could be decoded (last: " +
                    raw.samples[static_cast<size_t>(row)].source + ")");
      }
      const StreamedSample& streamed = raw.samples[static_cast<size_t>((row + attempt) % rows)];
      RawSample sample;
      sample.source = streamed.source;
      sample.encoded = streamed.image;
      sample.captions = {streamed.caption};
      try {
        examples.push_back((*pipeline_)(sample, options_.seed, static_cast<uint64_t>(epoch_), key));
        positions.push_back(position);
        break;
      } catch (const SampleError& e) {
        if (attempt > 0) continue;  // counted once, for the row's own sample
        ++replaced;
        ++bad_samples_;
        std::lock_guard<std::mutex> lock(logged_mutex_);
        if (logged_sources_.insert(e.source()).second) options_.warn("[data] skipped bad sample " + std::string(e.what()));
      }
    }
  }
  Batch batch = assemble_batch(std::move(examples), positions, pipeline_->options(), pin_);
  batch.epoch = epoch_;
  batch.step = step;
  batch.replaced = replaced;
  return batch;
}

std::optional<Batch> StreamingLoader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (threads_.empty() && next_to_deliver_ >= end_step_) return std::nullopt;
  changed_.wait(lock, [&] { return error_ || next_to_deliver_ >= end_step_ || ready_.count(next_to_deliver_) > 0; });
  if (error_) {
    std::exception_ptr error = error_;
    lock.unlock();
    stop();
    std::rethrow_exception(error);
  }
  if (next_to_deliver_ >= end_step_) {
    lock.unlock();
    stop();
    return std::nullopt;
  }
  auto found = ready_.find(next_to_deliver_);
  Batch batch = std::move(found->second.first);
  delivered_position_ = std::move(found->second.second);
  ready_.erase(found);
  ++next_to_deliver_;
  stream_at_delivered_ = next_to_pump_ == next_to_deliver_;
  lock.unlock();
  changed_.notify_all();
  return batch;
}

std::map<std::string, double> StreamingLoader::counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {{"bad_samples", static_cast<double>(bad_samples_.load())},
          {"failed_shards", static_cast<double>(stream_counters_.shards_failed)},
          {"incomplete_samples", static_cast<double>(stream_counters_.incomplete_samples)}};
}

std::string StreamingLoader::position() const { return delivered_position_; }

void StreamingLoader::restore_position(const std::string& position) {
  delivered_position_ = position;
  started_ = false;
}

}  // namespace slipstream
