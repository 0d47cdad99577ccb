// Multi-head attention over already-projected queries, keys and values, through
// at::scaled_dot_product_attention (fused flash / memory-efficient kernels on GPUs).
#pragma once
#include <ATen/core/Tensor.h>

namespace slipstream {

// q: [B, Lq, D], k and v: [B, Lk, D] -> [B, Lq, D], with D split into `heads` heads.
// causal: each query position i attends to key positions <= i (the text tower's mask).
at::Tensor multi_head_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads,
                                bool causal = false);

// The same from one packed projection: qkv [B, L, 3D] holding q, k, v in that order -> [B, L, D].
at::Tensor packed_multi_head_attention(const at::Tensor& qkv, int64_t heads, bool causal = false);

}  // namespace slipstream
