// The interface every image tower implements: images in, one pooled feature vector per image out.
#pragma once
#include <torch/nn/module.h>

#include <memory>

namespace slipstream {

class VisionTowerImpl : public torch::nn::Module {
 public:
  // [B, 3, H, W] float -> [B, output_width()]
  virtual at::Tensor forward(const at::Tensor& images) = 0;
  virtual int64_t output_width() const = 0;
  // Activation checkpointing (activation_checkpoint.h) of each transformer block / ResNet stage.
  void set_grad_checkpointing(bool enabled) { grad_checkpointing_ = enabled; }
  bool grad_checkpointing() const { return grad_checkpointing_; }

 protected:
  bool grad_checkpointing_ = false;
};
using VisionTower = std::shared_ptr<VisionTowerImpl>;

}  // namespace slipstream
