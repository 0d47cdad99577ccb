#include "slipstream/losses/loss.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "slipstream/core/error.h"

namespace slipstream {

void check_embedding_pair(const char* loss, const char* first_name, const at::Tensor& first, const char* second_name,
                          const at::Tensor& second) {
  if (!first.defined() || !second.defined()) {
    throw ShapeError(std::string(loss) + " needs " + first_name + " and " + second_name);
  }
  if (first.dim() != 2 || first.sizes() != second.sizes()) {
    throw ShapeError(std::string(loss) + ": " + first_name + " " + c10::str(first.sizes()) + " and " + second_name +
                     " " + c10::str(second.sizes()) + " must both be [B, D]");
  }
}

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
