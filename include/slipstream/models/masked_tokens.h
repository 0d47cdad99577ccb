// BERT's masking for DeCLIP's masked language modelling, on a batch of framed captions: each
// token strictly between SOT (position 0) and the caption's EOT is chosen with probability `prob`;
// of the chosen, 80% become <|mask|>, 10% a random BPE id, 10% stay. SOT, EOT and padding are
// never chosen. Random ids are drawn from the BPE ids below SOT (never a special token, so EOT
// stays the largest id and pooling finds it). Draws come from the default generator of the
// tokens' device.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace slipstream {

// The input ids around CLIP's BPE ids 0..49405: SOT, EOT, and <|mask|> one past CLIP's vocabulary
// (only a token_layout "declip" text tower accepts it).
constexpr int64_t kStartOfTextId = 49406;
constexpr int64_t kMaskTokenId = 49408;

struct MaskedTokens {
  at::Tensor tokens;  // [B, L] int64: the input with the chosen positions replaced
  at::Tensor labels;  // [B, L] int64: the original id at chosen positions, -100 elsewhere
};

// tokens: [B, L] int64 with CLIP's ids (EOT 49407 the largest of each row).
MaskedTokens mask_tokens(const at::Tensor& tokens, double prob = 0.15, int64_t mask_id = kMaskTokenId,
                         int64_t bpe_ids = kStartOfTextId);

}  // namespace slipstream
