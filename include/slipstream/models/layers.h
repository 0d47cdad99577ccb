// Small layers shared by the towers: QuickGELU, stochastic depth, patch dropout, and an activation chooser.
#pragma once
#include <torch/nn/module.h>

#include <string>

namespace slipstream {

// OpenAI CLIP's activation: x * sigmoid(1.702 x).
at::Tensor quick_gelu(const at::Tensor& x);

// Applies "gelu" (exact, erf-based) or "quick_gelu".
at::Tensor apply_activation(const at::Tensor& x, const std::string& activation);

// Stochastic depth (timm's DropPath): in training, zeroes each sample's residual branch with
// probability `rate` and scales the survivors by 1/(1-rate); identity in eval mode.
class DropPathImpl : public torch::nn::Module {
 public:
  explicit DropPathImpl(double rate = 0.0) : rate_(rate) {}
  at::Tensor forward(const at::Tensor& x);  // [B, ...] -> [B, ...]
  double rate() const { return rate_; }

 private:
  double rate_;
};
TORCH_MODULE(DropPath);

// FLIP's patch dropout (open_clip's PatchDropout, exclude_first_token): keeps the first (CLS) token
// and max(1, int(N * (1 - prob))) of the N others, chosen per sample as the top-k of
// randn(B, N) drawn from the CPU generator, in that top-k order (so a seed reproduces
// open_clip's choice). [B, 1 + N, D] -> [B, 1 + K, D]
at::Tensor drop_patch_tokens(const at::Tensor& tokens, double prob);

}  // namespace slipstream
