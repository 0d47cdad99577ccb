// How a loss sees the embeddings of the other ranks. Losses compute labels as
// rank * local_batch + arange(local_batch), so the distributed gather drops in unchanged.
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <vector>

namespace slipstream {

class FeatureGather {
 public:
  virtual ~FeatureGather() = default;
  virtual int64_t rank() const = 0;
  virtual int64_t world_size() const = 0;
  // Concatenates each tensor over ranks along dim 0, rank order: [B, D] -> [world_size * B, D].
  // with_grad: the result is differentiable and gradients reach every rank's local slice.
  virtual std::vector<at::Tensor> all_gather(const std::vector<at::Tensor>& tensors, bool with_grad) const = 0;
};

// One process: rank 0 of 1, gathering returns the inputs.
class LocalFeatureGather : public FeatureGather {
 public:
  int64_t rank() const override { return 0; }
  int64_t world_size() const override { return 1; }
  std::vector<at::Tensor> all_gather(const std::vector<at::Tensor>& tensors, bool with_grad) const override {
    return tensors;
  }
};

inline std::shared_ptr<const FeatureGather> local_feature_gather() {
  return std::make_shared<LocalFeatureGather>();
}

}  // namespace slipstream
