#include "slipstream/losses/loss.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

namespace slipstream {

at::Tensor l2_normalize(const at::Tensor& x) { return x / x.norm(2, {-1}, /*keepdim=*/true).clamp_min(1e-12); }

at::Tensor rank_offset_labels(int64_t local_batch, int64_t rank, const at::TensorOptions& options) {
  return at::arange(local_batch, options.dtype(at::kLong)) + rank * local_batch;
}

at::Tensor accuracy_percent(const at::Tensor& logits, const at::Tensor& labels) {
  torch::NoGradGuard no_grad;
  at::Tensor correct = logits.argmax(-1).eq(labels).sum();
  return correct.to(at::kFloat) * 100.0 / static_cast<double>(labels.size(0));
}

}  // namespace slipstream
