// Small layers shared by the towers: QuickGELU, stochastic depth, and an activation chooser.
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

}  // namespace slipstream
