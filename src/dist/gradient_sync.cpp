#include "slipstream/dist/gradient_sync.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <algorithm>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

// Runs after the accumulator has added this backward's gradient into parameter.grad().
class GradientReadyHook : public torch::autograd::FunctionPostHook {
 public:
  GradientReadyHook(GradientSynchronizer* synchronizer, size_t parameter)
      : synchronizer_(synchronizer), parameter_(parameter) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    synchronizer_->mark_ready(parameter_);
    return outputs;
  }

 private:
  GradientSynchronizer* synchronizer_;
  size_t parameter_;
};

}  // namespace

GradientSynchronizer::GradientSynchronizer(std::shared_ptr<ProcessGroup> group, std::vector<at::Tensor> parameters,
                                           int64_t bucket_bytes)
    : group_(std::move(group)), parameters_(std::move(parameters)) {
  bucket_of_.resize(parameters_.size());
  ready_.assign(parameters_.size(), 0);
  int64_t bytes = 0;
  for (size_t k = parameters_.size(); k-- > 0;) {  // reverse registration order
    const at::Tensor& parameter = parameters_[k];
    const bool fits = !buckets_.empty() && bytes + parameter.nbytes() <= static_cast<uint64_t>(bucket_bytes) &&
                      buckets_.back().buffer.scalar_type() == parameter.scalar_type();
    if (!fits) {
      buckets_.emplace_back();
      buckets_.back().buffer = at::empty({0}, parameter.options());
      bytes = 0;
    }
    Bucket& bucket = buckets_.back();
    bucket.parameters.push_back(k);
    bucket.numel += parameter.numel();
    bucket_of_[k] = buckets_.size() - 1;
    bytes += static_cast<int64_t>(parameter.nbytes());
  }
  for (Bucket& bucket : buckets_) bucket.waiting = bucket.parameters.size();
  for (size_t k = 0; k < parameters_.size(); ++k) {
    std::shared_ptr<torch::autograd::Node> accumulator = torch::autograd::impl::grad_accumulator(parameters_[k]);
    if (!accumulator) throw ConfigError("GradientSynchronizer: parameter " + std::to_string(k) + " does not require a gradient");
    hook_keys_.push_back(accumulator->add_post_hook(std::make_unique<GradientReadyHook>(this, k)));
    accumulators_.push_back(std::move(accumulator));
  }
}

GradientSynchronizer::~GradientSynchronizer() {
  for (size_t k = 0; k < accumulators_.size(); ++k) accumulators_[k]->del_post_hook(hook_keys_[k]);
}

void GradientSynchronizer::launch(Bucket& bucket) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> flat;
  for (size_t k : bucket.parameters) {
    const at::Tensor& grad = parameters_[k].grad();
    flat.push_back(grad.defined() ? grad.reshape({-1}) : at::zeros({parameters_[k].numel()}, parameters_[k].options()));
  }
  bucket.buffer = at::cat(flat);
  std::vector<at::Tensor> tensors = {bucket.buffer};
  bucket.reduction = group_->all_reduce_sum_async(tensors);
}

void GradientSynchronizer::mark_ready(size_t parameter) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (ready_[parameter]) return;  // a gradient accumulated twice in one backward counts once
  ready_[parameter] = 1;
  Bucket& bucket = buckets_[bucket_of_[parameter]];
  if (--bucket.waiting == 0) launch(bucket);
}

void GradientSynchronizer::finish() {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  at::NoGradGuard no_grad;
  // Buckets start in the same order on every rank: any still waiting start now, in index order.
  for (Bucket& bucket : buckets_) {
    if (!bucket.reduction) launch(bucket);
  }
  const double world = static_cast<double>(group_->world_size());
  for (Bucket& bucket : buckets_) {
    bucket.reduction->wait();
    bucket.buffer.div_(world);
    int64_t offset = 0;
    for (size_t k : bucket.parameters) {
      at::Tensor& parameter = parameters_[k];
      const at::Tensor average = bucket.buffer.narrow(0, offset, parameter.numel()).view(parameter.sizes());
      if (parameter.grad().defined()) {
        parameter.mutable_grad().copy_(average);
      } else {
        parameter.mutable_grad() = average.clone();
      }
      offset += parameter.numel();
    }
    bucket.reduction.reset();
    bucket.waiting = bucket.parameters.size();
  }
  std::fill(ready_.begin(), ready_.end(), 0);
}

}  // namespace slipstream
