// OpenAI CLIP's text tower: token + learned position embeddings, causal pre-LN transformer with
// QuickGELU, final LayerNorm, pooled at the EOT token (the largest id), projected to the joint space.
// Names follow OpenAI CLIP / open_clip: token_embedding, positional_embedding,
// transformer.resblocks.N.{ln_1, attn.in_proj_weight, attn.in_proj_bias, attn.out_proj, ln_2,
// mlp.c_fc, mlp.c_proj}, ln_final, text_projection.
#pragma once
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "slipstream/models/masked_tokens.h"
#include "slipstream/models/model_config.h"

namespace slipstream {

// nn.MultiheadAttention's parameter layout (packed in_proj, out_proj) computed with fused SDPA.
class SelfAttentionImpl : public torch::nn::Module {
 public:
  SelfAttentionImpl(int64_t width, int64_t heads);
  at::Tensor forward(const at::Tensor& x, bool causal);  // [B, L, D] -> [B, L, D]
  at::Tensor in_proj_weight;  // [3D, D]
  at::Tensor in_proj_bias;    // [3D]
  torch::nn::Linear out_proj{nullptr};

 private:
  int64_t heads_;
};
TORCH_MODULE(SelfAttention);

class TextMlpImpl : public torch::nn::Module {
 public:
  explicit TextMlpImpl(int64_t width, std::string activation = "quick_gelu");
  at::Tensor forward(const at::Tensor& x);  // [B, L, D] -> [B, L, D], QuickGELU (or GELU)
  torch::nn::Linear c_fc{nullptr}, c_proj{nullptr};

 private:
  std::string activation_;
};
TORCH_MODULE(TextMlp);

class ResidualAttentionBlockImpl : public torch::nn::Module {
 public:
  ResidualAttentionBlockImpl(int64_t width, int64_t heads, const std::string& activation = "quick_gelu");
  at::Tensor forward(const at::Tensor& x, bool causal);  // [B, L, D] -> [B, L, D]
  torch::nn::LayerNorm ln_1{nullptr}, ln_2{nullptr};
  SelfAttention attn{nullptr};
  TextMlp mlp{nullptr};
};
TORCH_MODULE(ResidualAttentionBlock);

class TransformerImpl : public torch::nn::Module {
 public:
  TransformerImpl(int64_t width, int64_t layers, int64_t heads, const std::string& activation = "quick_gelu");
  at::Tensor forward(const at::Tensor& x, bool causal);  // [B, L, D] -> [B, L, D]
  torch::nn::ModuleList resblocks{nullptr};
  int64_t width() const { return width_; }
  int64_t layers() const { return static_cast<int64_t>(resblocks->size()); }
  // Activation checkpointing (activation_checkpoint.h) of each block.
  void set_grad_checkpointing(bool enabled) { grad_checkpointing_ = enabled; }

 private:
  int64_t width_;
  bool grad_checkpointing_ = false;
};
TORCH_MODULE(Transformer);

class TextTransformerImpl : public torch::nn::Module {
 public:
  TextTransformerImpl(const TextConfig& config, int64_t embed_dim);
  // tokens: [B, L] int64 with L <= context_length -> [B, embed_dim]
  at::Tensor forward(const at::Tensor& tokens);
  // [B, L] -> [B, L, width] after ln_final (for token-level heads such as masked LM)
  at::Tensor forward_tokens(const at::Tensor& tokens);
  // The token features at each caption's EOT, projected: [B, L, width], [B, L] -> [B, embed_dim]
  at::Tensor project_eot(const at::Tensor& features, const at::Tensor& tokens) const;
  // The embedding rows of input ids: the ids themselves, or for token_layout "declip" SOT 49406 ->
  // 49407, EOT 49407 -> 49408 and <|mask|> 49408 -> 49406. [B, L] -> [B, L]
  at::Tensor embedding_ids(const at::Tensor& tokens) const;
  // SLIP's initialize_parameters for the text side.
  void reset_parameters();
  const TextConfig& config() const { return config_; }

  torch::nn::Embedding token_embedding{nullptr};
  at::Tensor positional_embedding;  // [context_length, width]
  Transformer transformer{nullptr};
  torch::nn::LayerNorm ln_final{nullptr};
  at::Tensor text_projection;  // [width, embed_dim], no bias

 private:
  TextConfig config_;
};
TORCH_MODULE(TextTransformer);

}  // namespace slipstream
