#include "slipstream/models/layers.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <tuple>

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

at::Tensor drop_patch_tokens(const at::Tensor& tokens, double prob) {
  if (prob <= 0.0) return tokens;
  if (prob >= 1.0) throw ConfigError("patch dropout " + std::to_string(prob) + ": expected a rate in [0, 1)");
  const int64_t batch = tokens.size(0), patches = tokens.size(1) - 1;
  const int64_t keep = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(patches) * (1.0 - prob)));
  const at::Tensor scores = at::randn({batch, patches});                                    // [B, N] CPU draw
  const at::Tensor kept = std::get<1>(scores.topk(keep, -1)).add(1).to(tokens.device());   // [B, K] token index
  const at::Tensor index = kept.unsqueeze(-1).expand({batch, keep, tokens.size(2)});        // [B, K, D]
  return at::cat({tokens.narrow(1, 0, 1), tokens.gather(1, index)}, 1);                     // [B, 1 + K, D]
}

}  // namespace slipstream
