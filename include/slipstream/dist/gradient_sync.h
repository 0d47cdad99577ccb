// DistributedDataParallel's gradient averaging: the parameters are split into buckets of about
// `bucket_bytes` in reverse registration order (the order backward produces their gradients); a
// hook on each parameter's gradient accumulator counts it ready, and a bucket's all-reduce starts
// as soon as its last gradient is accumulated, so communication overlaps the rest of backward.
// finish() waits for the buckets, divides by the world size and writes the averages back.
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "slipstream/dist/process_group.h"

namespace torch::autograd {
struct Node;
}

namespace slipstream {

class GradientSynchronizer {
 public:
  GradientSynchronizer(std::shared_ptr<ProcessGroup> group, std::vector<at::Tensor> parameters,
                       int64_t bucket_bytes = 25LL << 20);
  ~GradientSynchronizer();
  GradientSynchronizer(const GradientSynchronizer&) = delete;
  GradientSynchronizer& operator=(const GradientSynchronizer&) = delete;

  // Whether the coming backward synchronises: only the last micro-batch of an accumulation does
  // (DDP's no_sync for the others).
  void set_enabled(bool enabled) { enabled_ = enabled; }
  // After a synchronising backward: starts the buckets still waiting (parameters without a
  // gradient count as zeros), waits for all, and leaves every gradient the mean over ranks.
  void finish();
  int64_t bucket_count() const { return static_cast<int64_t>(buckets_.size()); }

  void mark_ready(size_t parameter);  // called by the accumulator hooks

 private:
  struct Bucket {
    std::vector<size_t> parameters;
    int64_t numel = 0;
    size_t waiting = 0;
    at::Tensor buffer;  // [numel] flattened gradients
    std::optional<PendingCollective> reduction;
  };
  void launch(Bucket& bucket);

  std::shared_ptr<ProcessGroup> group_;
  std::vector<at::Tensor> parameters_;
  std::vector<size_t> bucket_of_;
  std::vector<char> ready_;  // per parameter: counted in this backward
  std::vector<Bucket> buckets_;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;
  std::vector<uintptr_t> hook_keys_;
  std::mutex mutex_;
  bool enabled_ = true;
};

}  // namespace slipstream
