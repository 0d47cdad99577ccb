#include "slipstream/models/layers.h"

#include <ATen/ATen.h>

#include "slipstream/core/error.h"

namespace slipstream {

at::Tensor quick_gelu(const at::Tensor& x) { return x * at::sigmoid(1.702 * x); }

at::Tensor apply_activation(const at::Tensor& x, const std::string& activation) {
  if (activation == "gelu") return at::gelu(x);
  if (activation == "quick_gelu") return quick_gelu(x);
  throw ConfigError("unknown activation '" + activation + "' (expected gelu or quick_gelu)");
}

at::Tensor DropPathImpl::forward(const at::Tensor& x) {
  if (!is_training() || rate_ == 0.0) return x;
  const double keep = 1.0 - rate_;
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[0] = x.size(0);
  at::Tensor mask = at::empty(shape, x.options()).bernoulli_(keep).div_(keep);  // [B, 1, ...]
  return x * mask;
}

}  // namespace slipstream
