// The threaded data loader: worker threads build whole batches ahead of the training step (a
// bounded number in flight), delivered strictly in step order. Batches are the same whatever the
// number of workers: the epoch plan fixes which samples form step s, and every random draw comes
// from (seed, epoch, sample index). A sample that cannot be read or decoded is logged once with
// its source, counted, and replaced by a deterministic substitute, so batches stay full.
#pragma once
#include <ATen/core/Tensor.h>

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "slipstream/data/batch_loader.h"
#include "slipstream/data/datasets/dataset.h"
#include "slipstream/data/sample_pipeline.h"

namespace slipstream {

struct LoaderOptions {
  int64_t batch_size = 64;       // per process
  int workers = 0;               // 0: one per core
  int64_t prefetch_batches = 0;  // batches in flight; 0: two per worker
  uint64_t seed = 0;
  int64_t rank = 0;
  int64_t world_size = 1;
  bool shuffle = true;
  bool drop_last = true;         // training: full batches only; evaluation: keep the last, smaller one
  bool pin_memory = true;        // page-locked batches when a CUDA device is present
  int max_replacements = 64;     // substitutes tried for one bad sample before the loader gives up
  std::function<void(const std::string&)> warn;  // where skipped-sample lines go; default: standard error
};

class Loader : public BatchLoader {
 public:
  Loader(DatasetPtr dataset, std::shared_ptr<const SamplePipeline> pipeline, LoaderOptions options);
  ~Loader() override;
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t samples_per_epoch() const { return samples_per_epoch_; }  // this rank's
  int64_t steps_per_epoch() const override;
  // Starts the workers on `epoch` from step `start_step` (resume: the batches from there are the
  // ones an uninterrupted run reads). Stops an epoch still running.
  void start_epoch(int64_t epoch, int64_t start_step = 0) override;
  // The next batch in step order; nullopt when the epoch is over. Rethrows the first error a
  // worker hit (other than a bad sample), after stopping the others.
  std::optional<Batch> next() override;
  int64_t bad_samples() const { return bad_samples_.load(); }  // replaced since construction
  std::map<std::string, double> counters() const override {
    return {{"bad_samples", static_cast<double>(bad_samples())}};
  }
  int workers() const override { return workers_count_; }
  const Dataset& dataset() const { return *dataset_; }

 private:
  void stop();
  void work();
  Batch build(int64_t step);
  Example load_sample(int64_t position, int64_t index, int64_t& chosen_index, int64_t& replaced);

  DatasetPtr dataset_;
  std::shared_ptr<const SamplePipeline> pipeline_;
  LoaderOptions options_;
  int workers_count_ = 1;
  int64_t prefetch_ = 2;
  int64_t samples_per_epoch_ = 0;
  bool pin_ = false;

  // The running epoch.
  int64_t epoch_ = 0;
  int64_t end_step_ = 0;
  std::vector<int64_t> plan_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int64_t next_to_claim_ = 0;
  int64_t next_to_deliver_ = 0;
  std::map<int64_t, Batch> ready_;
  std::exception_ptr error_;
  bool stopping_ = false;

  std::atomic<int64_t> bad_samples_{0};
  std::mutex logged_mutex_;
  std::set<std::string> logged_sources_;
};

}  // namespace slipstream
