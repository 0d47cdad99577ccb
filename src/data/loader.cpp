#include "slipstream/data/loader.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>

#include <algorithm>
#include <iostream>

#include "slipstream/core/error.h"
#include "slipstream/data/epoch_plan.h"
#include "slipstream/data/text/token_framing.h"

namespace slipstream {
namespace {

// The RNG stream of sample_rng that picks substitutes for bad samples.
constexpr uint64_t kReplacementStream = 0x5EB5717u;

}  // namespace

Loader::Loader(DatasetPtr dataset, std::shared_ptr<const SamplePipeline> pipeline, LoaderOptions options)
    : dataset_(std::move(dataset)), pipeline_(std::move(pipeline)), options_(std::move(options)) {
  if (!dataset_ || !pipeline_) throw ConfigError("loader needs a dataset and a pipeline");
  if (options_.batch_size <= 0) throw ConfigError("--batch-size must be positive");
  if (options_.world_size <= 0 || options_.rank < 0 || options_.rank >= options_.world_size) {
    throw ConfigError("rank " + std::to_string(options_.rank) + " outside world size " + std::to_string(options_.world_size));
  }
  workers_count_ = options_.workers > 0 ? options_.workers : std::max(1u, std::thread::hardware_concurrency());
  prefetch_ = options_.prefetch_batches > 0 ? options_.prefetch_batches : 2 * workers_count_;
  samples_per_epoch_ = samples_per_rank(dataset_->size(), options_.world_size);
  pin_ = options_.pin_memory && at::hasCUDA();
  if (!options_.warn) options_.warn = [](const std::string& line) { std::cerr << line << "\n"; };
  if (options_.drop_last && samples_per_epoch_ < options_.batch_size) {
    throw ConfigError("--batch-size " + std::to_string(options_.batch_size) + " is larger than the " +
                      std::to_string(samples_per_epoch_) + " samples each rank reads per epoch (" + dataset_->description() + ")");
  }
}

Loader::~Loader() { stop(); }

int64_t Loader::steps_per_epoch() const {
  return options_.drop_last ? samples_per_epoch_ / options_.batch_size
                            : (samples_per_epoch_ + options_.batch_size - 1) / options_.batch_size;
}

void Loader::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

void Loader::start_epoch(int64_t epoch, int64_t start_step) {
  stop();
  if (start_step < 0 || start_step > steps_per_epoch()) {
    throw ConfigError("resume step " + std::to_string(start_step) + " outside the epoch's " +
                      std::to_string(steps_per_epoch()) + " steps");
  }
  plan_ = plan_epoch(dataset_->size(), dataset_->shard_sizes(),
                     {options_.seed, epoch, options_.rank, options_.world_size, options_.shuffle});
  epoch_ = epoch;
  end_step_ = steps_per_epoch();
  next_to_claim_ = next_to_deliver_ = start_step;
  ready_.clear();
  error_ = nullptr;
  stopping_ = false;
  for (int w = 0; w < workers_count_; ++w) threads_.emplace_back([this] { work(); });
}

void Loader::work() {
  while (true) {
    int64_t step;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || next_to_claim_ >= end_step_ || next_to_claim_ < next_to_deliver_ + prefetch_; });
      if (stopping_ || next_to_claim_ >= end_step_) return;
      step = next_to_claim_++;
    }
    try {
      Batch batch = build(step);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(step, std::move(batch));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      stopping_ = true;
    }
    changed_.notify_all();
  }
}

std::optional<Batch> Loader::next() {
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
  Batch batch = std::move(found->second);
  ready_.erase(found);
  ++next_to_deliver_;
  lock.unlock();
  changed_.notify_all();
  return batch;
}

Example Loader::load_sample(int64_t position, int64_t index, int64_t& chosen_index, int64_t& replaced) {
  int64_t candidate = index;
  for (int attempt = 0;; ++attempt) {
    try {
      chosen_index = candidate;
      return (*pipeline_)(dataset_->get(candidate), options_.seed, static_cast<uint64_t>(epoch_), candidate);
    } catch (const SampleError& e) {
      ++replaced;
      ++bad_samples_;
      {
        std::lock_guard<std::mutex> lock(logged_mutex_);
        if (logged_sources_.insert(e.source()).second) options_.warn("[data] skipped bad sample " + std::string(e.what()));
      }
      if (attempt + 1 >= options_.max_replacements) {
        throw Error("more than " + std::to_string(options_.max_replacements) + " bad samples in a row while replacing sample " +
                    std::to_string(index) + " (" + dataset_->description() + "); last: " + e.what());
      }
      // A substitute drawn from (seed, epoch, position, attempt): the same whatever thread runs this.
      std::mt19937_64 rng = sample_rng(options_.seed, static_cast<uint64_t>(epoch_), static_cast<uint64_t>(position),
                                       kReplacementStream + static_cast<uint64_t>(attempt));
      candidate = static_cast<int64_t>(rng() % static_cast<uint64_t>(dataset_->size()));
    }
  }
}

Batch Loader::build(int64_t step) {
  const int64_t begin = step * options_.batch_size;
  const int64_t end = std::min<int64_t>(begin + options_.batch_size, static_cast<int64_t>(plan_.size()));
  std::vector<Example> examples;
  std::vector<int64_t> indices;
  int64_t replaced = 0;
  for (int64_t position = begin; position < end; ++position) {
    int64_t chosen = 0;
    examples.push_back(load_sample(position, plan_[static_cast<size_t>(position)], chosen, replaced));
    indices.push_back(chosen);
  }
  Batch batch = assemble_batch(std::move(examples), indices, pipeline_->options(), pin_);
  batch.epoch = epoch_;
  batch.step = step;
  batch.replaced = replaced;
  return batch;
}

Batch assemble_batch(std::vector<Example> examples, const std::vector<int64_t>& indices, const PipelineOptions& pipeline,
                     bool pin) {
  const auto rows = static_cast<int64_t>(examples.size());
  Batch batch;
  const at::TensorOptions long_options = at::TensorOptions().dtype(at::kLong).pinned_memory(pin);
  batch.indices = at::empty({rows}, long_options);
  batch.labels = at::empty({rows}, long_options);
  std::vector<std::vector<int64_t>> token_rows, augmented_rows;
  for (int64_t row = 0; row < rows; ++row) {
    Example& example = examples[static_cast<size_t>(row)];
    if (row == 0) {
      for (const at::Tensor& view : example.views) {
        batch.views.push_back(at::empty({rows, view.size(0), view.size(1), view.size(2)},
                                        at::TensorOptions().dtype(view.scalar_type()).pinned_memory(pin)));  // [B, 3, S, S]
      }
    }
    for (size_t v = 0; v < example.views.size(); ++v) batch.views[v][row].copy_(example.views[v]);
    batch.indices.data_ptr<int64_t>()[row] = indices[static_cast<size_t>(row)];
    batch.labels.data_ptr<int64_t>()[row] = example.label;
    batch.captions.push_back(std::move(example.caption));
    batch.sources.push_back(std::move(example.source));
    if (pipeline.tokenizer) token_rows.push_back(std::move(example.tokens));
    if (pipeline.caption_view) augmented_rows.push_back(std::move(example.tokens_aug));
  }
  if (pipeline.tokenizer) {
    batch.tokens = pad_token_rows(token_rows, pipeline.context_length);  // [B, context]
    if (pin) batch.tokens = batch.tokens.pin_memory();
    if (pipeline.caption_view) {
      batch.tokens_aug = pad_token_rows(augmented_rows, pipeline.context_length);  // [B, context]
      if (pin) batch.tokens_aug = batch.tokens_aug.pin_memory();
    }
  }
  return batch;
}

}  // namespace slipstream
