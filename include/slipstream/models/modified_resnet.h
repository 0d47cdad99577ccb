// CLIP's modified ResNet (open_clip's ModifiedResNet): a 3-conv stem with average pooling,
// anti-aliased strided bottlenecks (average pool before the stride), and attention pooling
// instead of global average pooling. Names follow open_clip: conv1..3/bn1..3 (stem),
// layer1..4.N.{conv1, bn1, conv2, bn2, conv3, bn3, downsample.0, downsample.1},
// attnpool.{positional_embedding, q_proj, k_proj, v_proj, c_proj}.
#pragma once
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "slipstream/models/model_config.h"
#include "slipstream/models/vision_tower.h"

namespace slipstream {

// The shortcut of a bottleneck whose shape changes: AvgPool(stride), 1x1 conv ("0"), BN ("1").
class BottleneckDownsampleImpl : public torch::nn::Module {
 public:
  BottleneckDownsampleImpl(int64_t in_channels, int64_t out_channels, int64_t stride);
  at::Tensor forward(const at::Tensor& x);  // [B, Cin, H, W] -> [B, Cout, H/stride, W/stride]
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};

 private:
  int64_t stride_;
};
TORCH_MODULE(BottleneckDownsample);

class BottleneckImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;
  BottleneckImpl(int64_t in_channels, int64_t planes, int64_t stride);
  at::Tensor forward(const at::Tensor& x);  // [B, Cin, H, W] -> [B, 4*planes, H/stride, W/stride]
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  BottleneckDownsample downsample{nullptr};

 private:
  int64_t stride_;
};
TORCH_MODULE(Bottleneck);

class AttentionPool2dImpl : public torch::nn::Module {
 public:
  AttentionPool2dImpl(int64_t spatial_size, int64_t width, int64_t heads, int64_t output_dim);
  // [B, C, G, G] -> [B, output_dim]: the mean token attends over itself and every position. A grid
  // G other than the trained S reads the positional embedding resized to it (positional_embedding_for).
  at::Tensor forward(const at::Tensor& x);
  // [G*G + 1, C]: the mean token's row, then the S x S grid resized bicubically (align_corners
  // false, as open_clip resizes a ViT's) to G x G; the embedding itself when G == S.
  at::Tensor positional_embedding_for(int64_t grid) const;
  at::Tensor positional_embedding;  // [S*S + 1, C]
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, c_proj{nullptr};

 private:
  int64_t spatial_size_;  // S, the grid the positional embedding was built for
  int64_t heads_;
};
TORCH_MODULE(AttentionPool2d);

class ModifiedResNetImpl : public VisionTowerImpl {
 public:
  explicit ModifiedResNetImpl(const VisionConfig& config);
  // [B, 3, S, S] -> [B, output_dim]; S is vision.image_size or another multiple of 32 (SLIP's
  // smaller SimCLR views, ssl.image_size), read through a resized positional embedding.
  at::Tensor forward(const at::Tensor& images) override;
  int64_t output_width() const override { return config_.output_dim; }
  // open_clip's init: attention-pool projections N(0, C^-0.5), zero gamma in each bn3.
  void reset_parameters();

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::ModuleList layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  AttentionPool2d attnpool{nullptr};

 private:
  VisionConfig config_;
};
TORCH_MODULE(ModifiedResNet);

}  // namespace slipstream
