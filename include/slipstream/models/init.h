// Weight initialisers that LibTorch's torch::nn::init lacks.
#pragma once
#include <ATen/core/Tensor.h>

namespace slipstream {

// Truncated normal N(mean, std) restricted to [low, high] (absolute bounds, as timm and PyTorch's
// trunc_normal_), sampled by inverse CDF. In-place, without recording gradients.
at::Tensor& trunc_normal_(at::Tensor& tensor, double mean = 0.0, double std = 1.0, double low = -2.0,
                          double high = 2.0);

// N(mean, std), in-place, without recording gradients.
at::Tensor& normal_(at::Tensor& tensor, double mean, double std);

}  // namespace slipstream
