#include "slipstream/models/init.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>

namespace slipstream {
namespace {
double normal_cdf(double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; }
}  // namespace

at::Tensor& trunc_normal_(at::Tensor& tensor, double mean, double std, double low, double high) {
  torch::NoGradGuard no_grad;
  const double lower = normal_cdf((low - mean) / std);
  const double upper = normal_cdf((high - mean) / std);
  tensor.uniform_(2 * lower - 1, 2 * upper - 1);
  tensor.erfinv_();
  tensor.mul_(std * std::sqrt(2.0));
  tensor.add_(mean);
  tensor.clamp_(low, high);
  return tensor;
}

at::Tensor& normal_(at::Tensor& tensor, double mean, double std) {
  torch::NoGradGuard no_grad;
  tensor.normal_(mean, std);
  return tensor;
}

}  // namespace slipstream
