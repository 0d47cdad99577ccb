#include "slipstream/dist/collectives.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

namespace slipstream {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The group travels through the autograd context as its address; it outlives every graph built
// with it (the trainer owns it for the whole run).
int64_t address_of(ProcessGroup& group) { return static_cast<int64_t>(reinterpret_cast<intptr_t>(&group)); }
ProcessGroup& group_at(const c10::IValue& address) {
  return *reinterpret_cast<ProcessGroup*>(static_cast<intptr_t>(address.toInt()));
}

struct AllGatherWithGrad : torch::autograd::Function<AllGatherWithGrad> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& tensor, int64_t group_address) {
    ctx->saved_data["group"] = group_address;
    ctx->saved_data["rows"] = tensor.size(0);
    return group_at(group_address).all_gather(tensor);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    ProcessGroup& group = group_at(ctx->saved_data["group"]);
    const int64_t rows = ctx->saved_data["rows"].toInt();
    std::vector<at::Tensor> summed = {grads[0].contiguous().clone()};
    group.all_reduce_sum(summed);
    return {summed[0].narrow(0, group.rank() * rows, rows), at::Tensor()};
  }
};

struct AllReduceSumWithGrad : torch::autograd::Function<AllReduceSumWithGrad> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& tensor, int64_t group_address) {
    ctx->saved_data["group"] = group_address;
    std::vector<at::Tensor> summed = {tensor.contiguous().clone()};
    group_at(group_address).all_reduce_sum(summed);
    return summed[0];
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    std::vector<at::Tensor> summed = {grads[0].contiguous().clone()};
    group_at(ctx->saved_data["group"]).all_reduce_sum(summed);
    return {summed[0], at::Tensor()};
  }
};

}  // namespace

at::Tensor all_gather_with_grad(const at::Tensor& tensor, ProcessGroup& group) {
  return AllGatherWithGrad::apply(tensor, address_of(group));
}

at::Tensor all_reduce_sum_with_grad(const at::Tensor& tensor, ProcessGroup& group) {
  return AllReduceSumWithGrad::apply(tensor, address_of(group));
}

std::vector<at::Tensor> DistributedFeatureGather::all_gather(const std::vector<at::Tensor>& tensors,
                                                             bool with_grad) const {
  std::vector<at::Tensor> gathered;
  for (const at::Tensor& tensor : tensors) {
    gathered.push_back(with_grad ? all_gather_with_grad(tensor, *group_) : group_->all_gather(tensor.detach()));
  }
  return gathered;
}

SimclrHeadImpl::BatchNorm sync_batch_norm(std::shared_ptr<ProcessGroup> group) {
  return [group](torch::nn::BatchNorm1dImpl& layer, const at::Tensor& x) -> at::Tensor {
    if (!layer.is_training()) return layer.forward(x);
    const auto& options = layer.options;
    const double rows = static_cast<double>(x.size(0) * group->world_size());  // every rank has B rows
    // [C]: statistics over all ranks' rows, differentiable through the all-reduces
    const at::Tensor input = x.to(at::kFloat);
    const at::Tensor mean = all_reduce_sum_with_grad(input.sum(0), *group) / rows;
    const at::Tensor centered = input - mean;
    const at::Tensor variance = all_reduce_sum_with_grad(centered.pow(2).sum(0), *group) / rows;
    at::Tensor y = centered * at::rsqrt(variance + options.eps());
    if (options.affine()) y = y * layer.weight + layer.bias;
    if (options.track_running_stats()) {
      at::NoGradGuard no_grad;
      layer.num_batches_tracked.add_(1);
      const double momentum = options.momentum().has_value()
                                  ? *options.momentum()
                                  : 1.0 / static_cast<double>(layer.num_batches_tracked.item<int64_t>());
      layer.running_mean.mul_(1.0 - momentum).add_(mean.detach().to(layer.running_mean.dtype()), momentum);
      const at::Tensor unbiased = variance.detach() * (rows / std::max(rows - 1.0, 1.0));
      layer.running_var.mul_(1.0 - momentum).add_(unbiased.to(layer.running_var.dtype()), momentum);
    }
    return y.to(x.scalar_type());
  };
}

}  // namespace slipstream
