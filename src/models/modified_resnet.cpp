#include "slipstream/models/modified_resnet.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>

#include "slipstream/core/error.h"
#include "slipstream/models/activation_checkpoint.h"
#include "slipstream/models/attention.h"
#include "slipstream/models/init.h"

namespace slipstream {
namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false));
}

}  // namespace

BottleneckDownsampleImpl::BottleneckDownsampleImpl(int64_t in_channels, int64_t out_channels, int64_t stride)
    : stride_(stride) {
  // open_clip registers AvgPool2d as "-1" (no parameters), the conv as "0" and the BN as "1".
  conv = register_module("0", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, 1).bias(false)));
  bn = register_module("1", torch::nn::BatchNorm2d(out_channels));
}

at::Tensor BottleneckDownsampleImpl::forward(const at::Tensor& x) {
  at::Tensor pooled = stride_ > 1 ? at::avg_pool2d(x, stride_) : x;
  return bn->forward(conv->forward(pooled));
}

BottleneckImpl::BottleneckImpl(int64_t in_channels, int64_t planes, int64_t stride) : stride_(stride) {
  conv1 = register_module("conv1", conv(in_channels, planes, 1));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
  conv2 = register_module("conv2", conv(planes, planes, 3));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
  conv3 = register_module("conv3", conv(planes, planes * kExpansion, 1));
  bn3 = register_module("bn3", torch::nn::BatchNorm2d(planes * kExpansion));
  if (stride > 1 || in_channels != planes * kExpansion) {
    downsample = register_module("downsample", BottleneckDownsample(in_channels, planes * kExpansion, stride));
  }
}

at::Tensor BottleneckImpl::forward(const at::Tensor& x) {
  at::Tensor out = at::relu(bn1->forward(conv1->forward(x)));
  out = at::relu(bn2->forward(conv2->forward(out)));
  if (stride_ > 1) out = at::avg_pool2d(out, stride_);
  out = bn3->forward(conv3->forward(out));
  at::Tensor identity = downsample.is_empty() ? x : downsample->forward(x);
  return at::relu(out + identity);
}

AttentionPool2dImpl::AttentionPool2dImpl(int64_t spatial_size, int64_t width, int64_t heads, int64_t output_dim)
    : spatial_size_(spatial_size), heads_(heads) {
  positional_embedding = register_parameter(
      "positional_embedding", at::randn({spatial_size * spatial_size + 1, width}) / std::sqrt(static_cast<double>(width)));
  k_proj = register_module("k_proj", torch::nn::Linear(width, width));
  q_proj = register_module("q_proj", torch::nn::Linear(width, width));
  v_proj = register_module("v_proj", torch::nn::Linear(width, width));
  c_proj = register_module("c_proj", torch::nn::Linear(width, output_dim));
}

at::Tensor AttentionPool2dImpl::positional_embedding_for(int64_t grid) const {
  if (grid == spatial_size_) return positional_embedding;
  const int64_t width = positional_embedding.size(1);
  const at::Tensor square =
      positional_embedding.slice(0, 1).reshape({1, spatial_size_, spatial_size_, width}).permute({0, 3, 1, 2});
  const at::Tensor resized = at::upsample_bicubic2d(square, {grid, grid}, /*align_corners=*/false);  // [1, C, G, G]
  return at::cat({positional_embedding.slice(0, 0, 1), resized.permute({0, 2, 3, 1}).reshape({grid * grid, width})}, 0);
}

at::Tensor AttentionPool2dImpl::forward(const at::Tensor& x) {
  TORCH_CHECK(x.size(2) == x.size(3), "AttentionPool2d expects a square grid, got ", x.sizes());
  const at::Tensor position = positional_embedding_for(x.size(2));          // [1 + G*G, C]
  at::Tensor tokens = x.flatten(2).transpose(1, 2);                          // [B, G*G, C]
  tokens = at::cat({tokens.mean(1, /*keepdim=*/true), tokens}, 1);          // [B, 1 + G*G, C]
  tokens = tokens + position.to(tokens.dtype());
  at::Tensor query = q_proj->forward(tokens.slice(1, 0, 1));                // [B, 1, C]
  at::Tensor pooled = multi_head_attention(query, k_proj->forward(tokens), v_proj->forward(tokens), heads_);
  return c_proj->forward(pooled.squeeze(1));                                // [B, output_dim]
}

ModifiedResNetImpl::ModifiedResNetImpl(const VisionConfig& config) : config_(config) {
  if (config.type != "modified_resnet") {
    throw ConfigError("ModifiedResNet built from a '" + config.type + "' vision config");
  }
  const int64_t width = config.width;
  conv1 = register_module("conv1", conv(3, width / 2, 3, 2));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(width / 2));
  conv2 = register_module("conv2", conv(width / 2, width / 2, 3));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(width / 2));
  conv3 = register_module("conv3", conv(width / 2, width, 3));
  bn3 = register_module("bn3", torch::nn::BatchNorm2d(width));

  int64_t in_channels = width;
  auto make_stage = [&](int64_t planes, int64_t blocks, int64_t stride) {
    torch::nn::ModuleList stage;
    stage->push_back(Bottleneck(in_channels, planes, stride));
    in_channels = planes * BottleneckImpl::kExpansion;
    for (int64_t i = 1; i < blocks; ++i) stage->push_back(Bottleneck(in_channels, planes, 1));
    return stage;
  };
  layer1 = register_module("layer1", make_stage(width, config.resnet_layers[0], 1));
  layer2 = register_module("layer2", make_stage(width * 2, config.resnet_layers[1], 2));
  layer3 = register_module("layer3", make_stage(width * 4, config.resnet_layers[2], 2));
  layer4 = register_module("layer4", make_stage(width * 8, config.resnet_layers[3], 2));
  attnpool = register_module("attnpool",
                             AttentionPool2d(config.image_size / 32, width * 32, config.heads, config.output_dim));
  reset_parameters();
}

void ModifiedResNetImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  const double std = std::pow(static_cast<double>(attnpool->c_proj->weight.size(1)), -0.5);
  for (auto* linear : {&attnpool->q_proj, &attnpool->k_proj, &attnpool->v_proj, &attnpool->c_proj}) {
    normal_((*linear)->weight, 0.0, std);
  }
  for (auto* stage : {&layer1, &layer2, &layer3, &layer4}) {
    for (const auto& block : **stage) block->as<Bottleneck>()->bn3->weight.zero_();
  }
}

at::Tensor ModifiedResNetImpl::forward(const at::Tensor& images) {
  if (images.dim() != 4 || images.size(1) != 3 || images.size(2) != images.size(3) || images.size(2) < 32 ||
      images.size(2) % 32 != 0) {
    throw ShapeError("ModifiedResNet expects images [B, 3, S, S] with S = " + std::to_string(config_.image_size) +
                     " (or another multiple of 32), got " + c10::str(images.sizes()));
  }
  // Channels-last activations: oneDNN's and cuDNN's convolutions run faster on them (a quarter off a
  // CPU training step of the demo tower); the weights and the result are unchanged.
  const at::Tensor nhwc = images.contiguous(at::MemoryFormat::ChannelsLast);
  at::Tensor x = at::relu(bn1->forward(conv1->forward(nhwc)));    // [B, w/2, S/2, S/2]
  x = at::relu(bn2->forward(conv2->forward(x)));
  x = at::relu(bn3->forward(conv3->forward(x)));                  // [B, w, S/2, S/2]
  x = at::avg_pool2d(x, 2);                                       // [B, w, S/4, S/4]
  for (auto* stage : {&layer1, &layer2, &layer3, &layer4}) {
    const std::shared_ptr<torch::nn::ModuleListImpl> blocks = stage->ptr();
    const auto run_stage = [blocks](const at::Tensor& y) {
      at::Tensor out = y;
      for (const auto& block : *blocks) out = block->as<Bottleneck>()->forward(out);
      return out;
    };
    x = grad_checkpointing_ ? checkpointed(run_stage, x, blocks) : run_stage(x);
  }                                                               // [B, 32w, S/32, S/32]
  return attnpool->forward(x);                                    // [B, output_dim]
}

}  // namespace slipstream
