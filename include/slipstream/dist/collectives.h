// Differentiable collectives and what the losses and models use them for: the embeddings of every
// rank (FeatureGather), and BatchNorm statistics over every rank's batch.
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>

#include "slipstream/dist/process_group.h"
#include "slipstream/losses/feature_gather.h"
#include "slipstream/models/simclr_head.h"

namespace slipstream {

// [B, ...] -> [world_size * B, ...] in rank order. Backward: each rank's gradient of the gathered
// tensor is summed over ranks and the rows of this rank returned (every rank's loss reaches it),
// as torch.distributed.nn.all_gather.
at::Tensor all_gather_with_grad(const at::Tensor& tensor, ProcessGroup& group);

// Sum over ranks; backward sums the gradients over ranks too.
at::Tensor all_reduce_sum_with_grad(const at::Tensor& tensor, ProcessGroup& group);

// FeatureGather over a process group: with_grad through all_gather_with_grad; without, SLIP's
// all_gather_batch (no gradient reaches any gathered row).
class DistributedFeatureGather : public FeatureGather {
 public:
  explicit DistributedFeatureGather(std::shared_ptr<ProcessGroup> group) : group_(std::move(group)) {}
  int64_t rank() const override { return group_->rank(); }
  int64_t world_size() const override { return group_->world_size(); }
  std::vector<at::Tensor> all_gather(const std::vector<at::Tensor>& tensors, bool with_grad) const override;

 private:
  std::shared_ptr<ProcessGroup> group_;
};

// BatchNorm1d in training mode with the batch statistics of every rank (torch.nn.SyncBatchNorm):
// mean and biased variance over all ranks' rows normalise, the running statistics take the
// unbiased variance; in evaluation mode, the running statistics as usual.
SimclrHeadImpl::BatchNorm sync_batch_norm(std::shared_ptr<ProcessGroup> group);

}  // namespace slipstream
