// A group of processes that run collectives together: c10d's TCPStore rendezvous (rank 0 serves
// it at MASTER_ADDR:MASTER_PORT) and one c10d backend, NCCL for CUDA tensors, Gloo for CPU
// tensors. Every collective must be called by every rank in the same order. A failure (a peer gone,
// the collective timeout reached) throws TrainingError naming this rank and the cause.
#pragma once
#include <ATen/core/Tensor.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "slipstream/dist/environment.h"

namespace slipstream {

// An asynchronous collective in flight; wait() blocks until its result is in place.
class PendingCollective {
 public:
  explicit PendingCollective(std::function<void()> wait) : wait_(std::move(wait)) {}
  void wait() { wait_(); }

 private:
  std::function<void()> wait_;
};

class ProcessGroup {
 public:
  // Connects to the rendezvous and creates the backend for `device` (CUDA: NCCL, CPU: Gloo).
  static std::shared_ptr<ProcessGroup> connect(const DistributedEnvironment& environment, const at::Device& device,
                                               std::chrono::milliseconds timeout = std::chrono::minutes(10));
  ~ProcessGroup();

  int64_t rank() const { return rank_; }
  int64_t world_size() const { return world_size_; }
  const std::string& backend_name() const { return backend_name_; }

  // Each tensor reduced in place, on every rank (any shapes: one collective per tensor).
  void all_reduce_sum(std::vector<at::Tensor>& tensors);
  void all_reduce_max(std::vector<at::Tensor>& tensors);
  // One collective over tensors of one shape (c10d's list semantics; the gradient buckets use one buffer).
  PendingCollective all_reduce_sum_async(std::vector<at::Tensor>& tensors);
  at::Tensor all_gather(const at::Tensor& tensor);  // [B, ...] -> [world_size * B, ...], rank order
  void broadcast(std::vector<at::Tensor>& tensors, int64_t root = 0);
  void barrier();

  struct Backend;  // c10d's, kept out of this header

 private:
  ProcessGroup() = default;
  void run(const char* what, const std::function<void()>& collective) const;

  int64_t rank_ = 0, world_size_ = 1;
  std::string backend_name_;
  std::unique_ptr<Backend> backend_;
};

// Each value summed over the group's ranks, through a tensor on `device` (the backend's); without
// a group (one process) the values as they are. For metric sums and counts.
std::vector<double> sum_over_ranks(std::vector<double> values, ProcessGroup* group, const at::Device& device);

}  // namespace slipstream
