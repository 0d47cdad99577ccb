// LiT's locked image tower (open_clip's --lock-image): the image side of a CLIP/SLIP model is
// frozen (no gradients, not in the optimizer) and runs in eval mode, while the text tower trains.
// The image side splits into groups, first to last:
//   ViT:             [patch_embed, cls_token, pos_embed, norm_pre], blocks.0, ..., blocks.N-1, [norm], [image_projection]
//   modified ResNet: [conv1-3, bn1-3], layer1, layer2, layer3, layer4, attnpool, [image_projection]
// and --lock-image-unlocked-groups K leaves the last K of them trainable (in train mode).
// --lock-image-freeze-bn-stats also keeps the BatchNorms of the unlocked groups in eval mode, so
// no running statistic of the tower changes.
#pragma once
#include <torch/nn/module.h>

#include <cstdint>
#include <string>
#include <vector>

#include "slipstream/models/contrastive_models.h"

namespace slipstream {

struct ImageTowerLockOptions {
  int64_t unlocked_groups = 0;
  bool freeze_bn_stats = false;
};

// The image side's groups as lists of name prefixes in the model ("visual.blocks.3"), first to last.
std::vector<std::vector<std::string>> image_tower_groups(const ClipModelImpl& model);

class ImageTowerLock {
 public:
  // Sets requires_grad false on every parameter of the locked groups. Throws ConfigError when
  // unlocked_groups is negative or not below the number of groups.
  ImageTowerLock(ClipModelImpl& model, ImageTowerLockOptions options);
  // model.train(), then eval mode for the locked groups (and every BatchNorm of the tower with
  // freeze_bn_stats). Call instead of model.train(), and again after an evaluation.
  void train(torch::nn::Module& model) const;
  int64_t locked_parameters() const { return locked_parameters_; }  // element count
  std::string summary() const;  // one line for the run's log

 private:
  bool locked(const std::string& name) const;
  ImageTowerLockOptions options_;
  int64_t groups_ = 0;
  std::vector<std::string> locked_prefixes_;
  int64_t locked_parameters_ = 0;
};

}  // namespace slipstream
