#include "slipstream/train/image_tower_lock.h"

#include <torch/nn/modules/batchnorm.h>

#include "slipstream/core/error.h"
#include "slipstream/models/vision_transformer.h"

namespace slipstream {
namespace {

bool has_prefix(const std::string& name, const std::string& prefix) {
  return name == prefix || (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
                            name[prefix.size()] == '.');
}

}  // namespace

std::vector<std::vector<std::string>> image_tower_groups(const ClipModelImpl& model) {
  std::vector<std::vector<std::string>> groups;
  if (const auto* vit = dynamic_cast<const VisionTransformerImpl*>(model.visual().get())) {
    groups.push_back({"visual.patch_embed", "visual.cls_token", "visual.pos_embed", "visual.norm_pre"});
    for (int64_t i = 0; i < vit->config().depth; ++i) groups.push_back({"visual.blocks." + std::to_string(i)});
    groups.push_back({"visual.norm"});
  } else {
    groups.push_back({"visual.conv1", "visual.bn1", "visual.conv2", "visual.bn2", "visual.conv3", "visual.bn3"});
    for (const char* stage : {"visual.layer1", "visual.layer2", "visual.layer3", "visual.layer4", "visual.attnpool"}) {
      groups.push_back({stage});
    }
  }
  if (model.image_projection.defined()) groups.push_back({"image_projection"});
  return groups;
}

ImageTowerLock::ImageTowerLock(ClipModelImpl& model, ImageTowerLockOptions options) : options_(options) {
  const std::vector<std::vector<std::string>> groups = image_tower_groups(model);
  groups_ = static_cast<int64_t>(groups.size());
  if (options.unlocked_groups < 0 || options.unlocked_groups >= groups_) {
    throw ConfigError("--lock-image-unlocked-groups " + std::to_string(options.unlocked_groups) + ": " +
                      model.config().name + "'s image side has " + std::to_string(groups_) +
                      " groups; expected 0 to " + std::to_string(groups_ - 1) + " unlocked");
  }
  for (int64_t g = 0; g + options.unlocked_groups < groups_; ++g) {
    for (const std::string& prefix : groups[static_cast<size_t>(g)]) locked_prefixes_.push_back(prefix);
  }
  if (options.unlocked_groups == 0) locked_prefixes_.push_back("visual");  // the containers too
  for (const auto& item : model.named_parameters()) {
    if (!locked(item.key())) continue;
    item.value().set_requires_grad(false);
    locked_parameters_ += item.value().numel();
  }
}

bool ImageTowerLock::locked(const std::string& name) const {
  for (const std::string& prefix : locked_prefixes_) {
    if (has_prefix(name, prefix)) return true;
  }
  return false;
}

void ImageTowerLock::train(torch::nn::Module& model) const {
  model.train();
  for (const auto& item : model.named_modules()) {
    const std::string& name = item.key();
    const bool batch_norm = item.value()->as<torch::nn::BatchNorm2d>() != nullptr;
    if (locked(name) || (options_.freeze_bn_stats && batch_norm && has_prefix(name, "visual"))) item.value()->eval();
  }
}

std::string ImageTowerLock::summary() const {
  return "image tower locked: " + std::to_string(groups_ - options_.unlocked_groups) + " of " + std::to_string(groups_) +
         " groups (" + std::to_string(locked_parameters_) + " parameters) frozen in eval mode" +
         (options_.freeze_bn_stats ? ", BatchNorm statistics frozen throughout" : "");
}

}  // namespace slipstream
