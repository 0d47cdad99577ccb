#include "slipstream/models/masked_tokens.h"

#include <ATen/ATen.h>

#include "slipstream/core/error.h"

namespace slipstream {

MaskedTokens mask_tokens(const at::Tensor& tokens, double prob, int64_t mask_id, int64_t bpe_ids) {
  if (tokens.dim() != 2 || tokens.scalar_type() != at::kLong) {
    throw ShapeError("mask_tokens expects int64 tokens [B, L], got " + c10::str(tokens.sizes()));
  }
  const at::Tensor positions = at::arange(tokens.size(1), tokens.options()).unsqueeze(0);  // [1, L]
  const at::Tensor eot = tokens.argmax(-1, /*keepdim=*/true);                               // [B, 1]
  const at::Tensor maskable = positions.gt(0).logical_and(positions.lt(eot));              // [B, L]
  const auto draw = [&](double p) {  // [B, L] bool, each true with probability p
    return at::empty(tokens.sizes(), tokens.options().dtype(at::kFloat)).bernoulli_(p).to(at::kBool);
  };
  const at::Tensor chosen = draw(prob).logical_and(maskable);
  const at::Tensor replaced = draw(0.8).logical_and(chosen);
  const at::Tensor randomised = draw(0.5).logical_and(chosen).logical_and(replaced.logical_not());
  const at::Tensor random_ids = at::randint(bpe_ids, tokens.sizes(), tokens.options());
  MaskedTokens out;
  out.tokens = at::where(replaced, at::full_like(tokens, mask_id), at::where(randomised, random_ids, tokens));
  out.labels = at::where(chosen, tokens, at::full_like(tokens, -100));
  return out;
}

}  // namespace slipstream
