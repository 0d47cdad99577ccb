#include "slipstream/models/text_transformer.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>

#include "slipstream/core/error.h"
#include "slipstream/models/activation_checkpoint.h"
#include "slipstream/models/attention.h"
#include "slipstream/models/init.h"
#include "slipstream/models/layers.h"

namespace slipstream {

SelfAttentionImpl::SelfAttentionImpl(int64_t width, int64_t heads) : heads_(heads) {
  in_proj_weight = register_parameter("in_proj_weight", at::empty({3 * width, width}));
  in_proj_bias = register_parameter("in_proj_bias", at::zeros({3 * width}));
  out_proj = register_module("out_proj", torch::nn::Linear(width, width));
  // nn.MultiheadAttention's defaults: xavier-uniform in_proj, zero biases.
  torch::NoGradGuard no_grad;
  const double bound = std::sqrt(6.0 / static_cast<double>(width + 3 * width));
  in_proj_weight.uniform_(-bound, bound);
  out_proj->bias.zero_();
}

at::Tensor SelfAttentionImpl::forward(const at::Tensor& x, bool causal) {
  at::Tensor qkv = at::linear(x, in_proj_weight, in_proj_bias);  // [B, L, 3D]
  return out_proj->forward(packed_multi_head_attention(qkv, heads_, causal));
}

TextMlpImpl::TextMlpImpl(int64_t width, std::string activation) : activation_(std::move(activation)) {
  c_fc = register_module("c_fc", torch::nn::Linear(width, 4 * width));
  c_proj = register_module("c_proj", torch::nn::Linear(4 * width, width));
}

at::Tensor TextMlpImpl::forward(const at::Tensor& x) { return c_proj->forward(apply_activation(c_fc->forward(x), activation_)); }

ResidualAttentionBlockImpl::ResidualAttentionBlockImpl(int64_t width, int64_t heads, const std::string& activation) {
  attn = register_module("attn", SelfAttention(width, heads));
  ln_1 = register_module("ln_1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  mlp = register_module("mlp", TextMlp(width, activation));
  ln_2 = register_module("ln_2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
}

at::Tensor ResidualAttentionBlockImpl::forward(const at::Tensor& x, bool causal) {
  at::Tensor y = x + attn->forward(ln_1->forward(x), causal);
  return y + mlp->forward(ln_2->forward(y));
}

TransformerImpl::TransformerImpl(int64_t width, int64_t layers, int64_t heads, const std::string& activation)
    : width_(width) {
  resblocks = register_module("resblocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < layers; ++i) resblocks->push_back(ResidualAttentionBlock(width, heads, activation));
}

at::Tensor TransformerImpl::forward(const at::Tensor& x, bool causal) {
  at::Tensor y = x;
  for (const auto& module : *resblocks) {
    const auto block = std::dynamic_pointer_cast<ResidualAttentionBlockImpl>(module);
    y = grad_checkpointing_ ? checkpointed([block, causal](const at::Tensor& z) { return block->forward(z, causal); }, y)
                            : block->forward(y, causal);  // [B, L, D]
  }
  return y;
}

TextTransformerImpl::TextTransformerImpl(const TextConfig& config, int64_t embed_dim) : config_(config) {
  token_embedding = register_module("token_embedding", torch::nn::Embedding(config.vocab_size, config.width));
  positional_embedding = register_parameter("positional_embedding", at::empty({config.context_length, config.width}));
  transformer = register_module("transformer", Transformer(config.width, config.layers, config.heads, config.activation));
  ln_final = register_module("ln_final", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.width})));
  text_projection = register_parameter("text_projection", at::empty({config.width, embed_dim}));
  reset_parameters();
}

void TextTransformerImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  const double width = static_cast<double>(config_.width);
  const double attn_std = std::pow(width, -0.5);
  const double proj_std = attn_std * std::pow(2.0 * static_cast<double>(config_.layers), -0.5);
  const double fc_std = std::pow(2.0 * width, -0.5);
  normal_(token_embedding->weight, 0.0, 0.02);
  normal_(positional_embedding, 0.0, 0.01);
  for (const auto& module : *transformer->resblocks) {
    auto* block = module->as<ResidualAttentionBlock>();
    normal_(block->attn->in_proj_weight, 0.0, attn_std);
    normal_(block->attn->out_proj->weight, 0.0, proj_std);
    normal_(block->mlp->c_fc->weight, 0.0, fc_std);
    normal_(block->mlp->c_proj->weight, 0.0, proj_std);
  }
  normal_(text_projection, 0.0, attn_std);
}

at::Tensor TextTransformerImpl::forward_tokens(const at::Tensor& tokens) {
  if (tokens.dim() != 2 || tokens.scalar_type() != at::kLong || tokens.size(1) > config_.context_length) {
    throw ShapeError("TextTransformer expects int64 tokens [B, L] with L <= " + std::to_string(config_.context_length) +
                     ", got " + std::string(c10::toString(tokens.scalar_type())) + " " + c10::str(tokens.sizes()));
  }
  const int64_t length = tokens.size(1);
  at::Tensor x = token_embedding->forward(embedding_ids(tokens)) + positional_embedding.slice(0, 0, length);  // [B, L, D]
  x = transformer->forward(x, /*causal=*/true);
  return ln_final->forward(x);  // [B, L, D]
}

at::Tensor TextTransformerImpl::embedding_ids(const at::Tensor& tokens) const {
  if (config_.token_layout != "declip") return tokens;
  // CLIP's specials move up one row and <|mask|> takes DeCLIP's row below them.
  const at::Tensor specials = tokens.ge(kStartOfTextId);  // SOT, EOT, <|mask|>
  const at::Tensor shifted = at::where(tokens.eq(kMaskTokenId), at::full_like(tokens, kStartOfTextId), tokens + 1);
  return at::where(specials, shifted, tokens);
}

at::Tensor TextTransformerImpl::project_eot(const at::Tensor& features, const at::Tensor& tokens) const {
  // EOT is the largest id in both layouts (DeCLIP's <|mask|> sits below it).
  at::Tensor eot = embedding_ids(tokens).argmax(-1).view({-1, 1, 1}).expand({-1, 1, features.size(2)});  // [B, 1, D]
  at::Tensor pooled = features.gather(1, eot).squeeze(1);                                          // [B, D]
  return pooled.matmul(text_projection);                                                           // [B, E]
}

at::Tensor TextTransformerImpl::forward(const at::Tensor& tokens) { return project_eot(forward_tokens(tokens), tokens); }

}  // namespace slipstream
