// The finetuning model: a pre-trained image tower and a linear classification head on its pooled
// output (timm/BEiT's VisionTransformer with num_classes and the CLS token: SLIP's finetune
// command uses --use_cls). State dict names: visual.* (the tower, as in the pre-training models)
// and head.weight / head.bias. BEiT's head init: trunc_normal(std 0.02) x init_scale, zero bias.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include <string>

#include "slipstream/core/state_dict.h"
#include "slipstream/models/model_config.h"
#include "slipstream/models/vision_tower.h"

namespace slipstream {

class ImageClassifierImpl : public torch::nn::Module {
 public:
  ImageClassifierImpl(const VisionConfig& config, int64_t num_classes, double head_init_scale = 0.001);
  at::Tensor forward(const at::Tensor& images);  // [B, 3, S, S] -> [B, num_classes] logits
  const VisionConfig& config() const { return config_; }
  int64_t num_classes() const { return num_classes_; }

  VisionTower visual;
  torch::nn::Linear head{nullptr};

 private:
  VisionConfig config_;
  int64_t num_classes_;
};
TORCH_MODULE(ImageClassifier);

// The image tower's tensors of a pre-training checkpoint, renamed to the tower's own names: those
// whose name starts with `prefix` (SLIP's torch checkpoints: "module.visual.", slipstream's and
// converted releases: "visual."), the prefix removed. An empty prefix tries "visual." and then
// "module.visual.". ConfigError naming the file and the prefix when no tensor has it.
StateDict image_tower_weights(const StateDict& weights, const std::string& prefix, const std::string& source);

// Loads image_tower_weights into the classifier's tower (strict: every tower tensor, right shapes);
// the head keeps its initialisation.
LoadReport load_image_tower(ImageClassifierImpl& classifier, const std::string& weights_path,
                            const std::string& prefix);

}  // namespace slipstream
