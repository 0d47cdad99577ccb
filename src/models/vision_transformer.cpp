#include "slipstream/models/vision_transformer.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "slipstream/core/error.h"
#include "slipstream/models/activation_checkpoint.h"
#include "slipstream/models/attention.h"
#include "slipstream/models/init.h"

namespace slipstream {
namespace {
torch::nn::LayerNorm make_norm(const VisionConfig& config) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.width}).eps(config.layer_norm_eps));
}
}  // namespace

PatchEmbedImpl::PatchEmbedImpl(int64_t patch_size, int64_t width, bool bias) {
  proj = register_module(
      "proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, width, patch_size).stride(patch_size).bias(bias)));
}

at::Tensor PatchEmbedImpl::forward(const at::Tensor& images) {
  return proj->forward(images).flatten(2).transpose(1, 2);  // [B, D, h, w] -> [B, h*w, D]
}

VitAttentionImpl::VitAttentionImpl(int64_t width, int64_t heads) : heads_(heads) {
  qkv = register_module("qkv", torch::nn::Linear(width, 3 * width));
  proj = register_module("proj", torch::nn::Linear(width, width));
}

at::Tensor VitAttentionImpl::forward(const at::Tensor& x) {
  return proj->forward(packed_multi_head_attention(qkv->forward(x), heads_));
}

VitMlpImpl::VitMlpImpl(int64_t width, int64_t hidden, std::string activation) : activation_(std::move(activation)) {
  fc1 = register_module("fc1", torch::nn::Linear(width, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, width));
}

at::Tensor VitMlpImpl::forward(const at::Tensor& x) {
  return fc2->forward(apply_activation(fc1->forward(x), activation_));
}

VitBlockImpl::VitBlockImpl(const VisionConfig& config, double drop_path_rate) {
  norm1 = register_module("norm1", make_norm(config));
  attn = register_module("attn", VitAttention(config.width, config.heads));
  norm2 = register_module("norm2", make_norm(config));
  mlp = register_module("mlp", VitMlp(config.width, static_cast<int64_t>(config.width * config.mlp_ratio),
                                      config.activation));
  drop_path = register_module("drop_path", DropPath(drop_path_rate));
}

at::Tensor VitBlockImpl::forward(const at::Tensor& x) {
  at::Tensor y = x + drop_path->forward(attn->forward(norm1->forward(x)));
  return y + drop_path->forward(mlp->forward(norm2->forward(y)));
}

VisionTransformerImpl::VisionTransformerImpl(const VisionConfig& config) : config_(config) {
  if (config.type != "vit") throw ConfigError("VisionTransformer built from a '" + config.type + "' vision config");
  const int64_t grid = config.image_size / config.patch_size;
  patch_embed = register_module("patch_embed", PatchEmbed(config.patch_size, config.width, !config.pre_norm));
  cls_token = register_parameter("cls_token", at::zeros({1, 1, config.width}));
  pos_embed = register_parameter("pos_embed", at::zeros({1, 1 + grid * grid, config.width}));
  if (config.pre_norm) norm_pre = register_module("norm_pre", make_norm(config));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.depth; ++i) {
    // timm: drop-path rate rises linearly from 0 at the first block to drop_path at the last.
    const double rate = config.depth > 1 ? config.drop_path * static_cast<double>(i) / (config.depth - 1) : 0.0;
    blocks->push_back(VitBlock(config, rate));
  }
  norm = register_module("norm", make_norm(config));
  reset_parameters();
}

void VisionTransformerImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  trunc_normal_(pos_embed, 0.0, 0.02);
  normal_(cls_token, 0.0, 1e-6);
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* linear = module->as<torch::nn::Linear>()) {
      trunc_normal_(linear->weight, 0.0, 0.02);
      linear->bias.zero_();
    }
  }
}

at::Tensor VisionTransformerImpl::forward_tokens(const at::Tensor& images) {
  if (images.dim() != 4 || images.size(1) != 3 || images.size(2) != config_.image_size ||
      images.size(3) != config_.image_size) {
    throw ShapeError("VisionTransformer expects images [B, 3, " + std::to_string(config_.image_size) + ", " +
                     std::to_string(config_.image_size) + "], got " + c10::str(images.sizes()));
  }
  at::Tensor patches = patch_embed->forward(images);                           // [B, N, D]
  at::Tensor cls = cls_token.expand({images.size(0), -1, -1}).to(patches.dtype());  // [B, 1, D]
  at::Tensor x = at::cat({cls, patches}, 1) + pos_embed;                       // [B, 1 + N, D]
  if (is_training() && patch_dropout_ > 0.0) x = drop_patch_tokens(x, patch_dropout_);  // [B, 1 + K, D]
  if (!norm_pre.is_empty()) x = norm_pre->forward(x);
  for (const auto& module : *blocks) {
    const auto block = std::dynamic_pointer_cast<VitBlockImpl>(module);
    x = grad_checkpointing_ ? checkpointed([block](const at::Tensor& y) { return block->forward(y); }, x)
                            : block->forward(x);  // [B, 1 + N, D]
  }
  return norm->forward(x);
}

void VisionTransformerImpl::set_patch_dropout(double prob) {
  if (!(prob >= 0.0 && prob < 1.0)) {
    throw ConfigError("--patch-dropout " + std::to_string(prob) + ": expected a rate in [0, 1)");
  }
  patch_dropout_ = prob;
}

at::Tensor VisionTransformerImpl::forward(const at::Tensor& images) {
  return forward_tokens(images).select(1, 0);  // [B, D]
}

}  // namespace slipstream
