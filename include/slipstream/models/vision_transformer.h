// timm's VisionTransformer (global_pool='token', num_classes=0): conv patch embedding, CLS token,
// learned position embedding, pre-LN blocks, final LayerNorm, output = CLS token.
// Parameter names follow timm: cls_token, pos_embed, patch_embed.proj, blocks.N.{norm1, attn.qkv,
// attn.proj, norm2, mlp.fc1, mlp.fc2}, norm (and norm_pre when pre_norm is set).
#pragma once
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "slipstream/models/layers.h"
#include "slipstream/models/model_config.h"
#include "slipstream/models/vision_tower.h"

namespace slipstream {

class PatchEmbedImpl : public torch::nn::Module {
 public:
  // bias: timm drops it when the ViT has a pre-norm (CLIP's layout).
  PatchEmbedImpl(int64_t patch_size, int64_t width, bool bias = true);
  at::Tensor forward(const at::Tensor& images);  // [B, 3, H, W] -> [B, H/p * W/p, D]
  torch::nn::Conv2d proj{nullptr};
};
TORCH_MODULE(PatchEmbed);

class VitAttentionImpl : public torch::nn::Module {
 public:
  VitAttentionImpl(int64_t width, int64_t heads);
  at::Tensor forward(const at::Tensor& x);  // [B, N, D] -> [B, N, D]
  torch::nn::Linear qkv{nullptr}, proj{nullptr};

 private:
  int64_t heads_;
};
TORCH_MODULE(VitAttention);

class VitMlpImpl : public torch::nn::Module {
 public:
  VitMlpImpl(int64_t width, int64_t hidden, std::string activation);
  at::Tensor forward(const at::Tensor& x);  // [B, N, D] -> [B, N, D]
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

 private:
  std::string activation_;
};
TORCH_MODULE(VitMlp);

class VitBlockImpl : public torch::nn::Module {
 public:
  VitBlockImpl(const VisionConfig& config, double drop_path);
  at::Tensor forward(const at::Tensor& x);  // [B, N, D] -> [B, N, D]
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  VitAttention attn{nullptr};
  VitMlp mlp{nullptr};
  DropPath drop_path{nullptr};
};
TORCH_MODULE(VitBlock);

class VisionTransformerImpl : public VisionTowerImpl {
 public:
  explicit VisionTransformerImpl(const VisionConfig& config);
  at::Tensor forward(const at::Tensor& images) override;  // [B, 3, S, S] -> [B, D] (CLS token)
  at::Tensor forward_tokens(const at::Tensor& images);    // [B, 3, S, S] -> [B, 1 + N, D] after the final norm
  int64_t output_width() const override { return config_.width; }
  const VisionConfig& config() const { return config_; }
  // FLIP's patch dropout in training mode (a run setting, not part of the weights or the config):
  // after the position embedding, only CLS and a random share 1 - prob of the patches go on.
  void set_patch_dropout(double prob);
  double patch_dropout() const { return patch_dropout_; }
  // timm's init: trunc normal(0.02) for Linear weights and pos_embed, zero biases, cls_token N(0, 1e-6).
  void reset_parameters();

  PatchEmbed patch_embed{nullptr};
  at::Tensor cls_token;  // [1, 1, D]
  at::Tensor pos_embed;  // [1, 1 + N, D]
  torch::nn::LayerNorm norm_pre{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};

 private:
  VisionConfig config_;
  double patch_dropout_ = 0.0;
};
TORCH_MODULE(VisionTransformer);

}  // namespace slipstream
