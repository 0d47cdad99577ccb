#include "slipstream/models/attention.h"

#include <ATen/ATen.h>

namespace slipstream {
namespace {

// [B, L, D] -> [B, H, L, D/H]
at::Tensor split_heads(const at::Tensor& x, int64_t heads) {
  return x.view({x.size(0), x.size(1), heads, x.size(2) / heads}).transpose(1, 2);
}

}  // namespace

at::Tensor multi_head_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads,
                                bool causal) {
  const int64_t batch = q.size(0), queries = q.size(1), width = q.size(2);
  at::Tensor out = at::scaled_dot_product_attention(split_heads(q.contiguous(), heads), split_heads(k.contiguous(), heads),
                                                    split_heads(v.contiguous(), heads), /*attn_mask=*/{},
                                                    /*dropout_p=*/0.0, /*is_causal=*/causal);  // [B, H, Lq, D/H]
  return out.transpose(1, 2).reshape({batch, queries, width});
}

at::Tensor packed_multi_head_attention(const at::Tensor& qkv, int64_t heads, bool causal) {
  const int64_t batch = qkv.size(0), length = qkv.size(1), width = qkv.size(2) / 3;
  // [B, L, 3, H, D/H] -> [3, B, H, L, D/H]
  at::Tensor split = qkv.view({batch, length, 3, heads, width / heads}).permute({2, 0, 3, 1, 4});
  at::Tensor out = at::scaled_dot_product_attention(split[0], split[1], split[2], /*attn_mask=*/{},
                                                    /*dropout_p=*/0.0, /*is_causal=*/causal);  // [B, H, L, D/H]
  return out.transpose(1, 2).reshape({batch, length, width});
}

}  // namespace slipstream
