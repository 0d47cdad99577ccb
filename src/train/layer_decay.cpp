#include "slipstream/train/layer_decay.h"

#include <torch/nn/module.h>

#include <cmath>
#include <map>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int64_t vit_layer_id(const std::string& name, int64_t depth) {
  if (name == "cls_token" || name == "pos_embed" || starts_with(name, "patch_embed.") || starts_with(name, "norm_pre.")) {
    return 0;
  }
  if (starts_with(name, "blocks.")) {
    const size_t end = name.find('.', 7);
    const int64_t block = std::stoll(name.substr(7, end - 7));
    if (block < 0 || block >= depth) throw ConfigError(name + ": block outside a ViT of depth " + std::to_string(depth));
    return block + 1;
  }
  return depth + 1;
}

std::vector<ParameterGroup> layer_decay_parameter_groups(const torch::nn::Module& model, double weight_decay,
                                                         double layer_decay, int64_t depth,
                                                         const std::string& tower_prefix) {
  if (!(layer_decay > 0.0 && layer_decay <= 1.0)) throw ConfigError("--layer-decay must be in (0, 1]");
  std::map<std::pair<int64_t, bool>, ParameterGroup> groups;  // (layer id, decayed)
  bool vit = false;
  for (const auto& item : model.named_parameters()) {
    const at::Tensor& parameter = item.value();
    if (!parameter.requires_grad()) continue;
    const std::string& name = item.key();
    const bool in_tower = starts_with(name, tower_prefix);
    const std::string tower_name = in_tower ? name.substr(tower_prefix.size()) : name;
    vit = vit || (in_tower && starts_with(tower_name, "blocks."));
    int64_t layer = depth + 1;
    if (layer_decay < 1.0 && in_tower) layer = vit_layer_id(tower_name, depth);
    const bool decayed = !(parameter.dim() <= 1 || ends_with(name, ".bias") ||
                           (in_tower && (tower_name == "pos_embed" || tower_name == "cls_token")));
    ParameterGroup& group = groups[{layer, decayed}];
    group.names.push_back(name);
    group.parameters.push_back(parameter);
    group.weight_decay = decayed ? weight_decay : 0.0;
    group.lr_scale = std::pow(layer_decay, static_cast<double>(depth + 1 - layer));
  }
  if (layer_decay < 1.0 && !vit) {
    throw ConfigError("--layer-decay " + std::to_string(layer_decay) +
                      ": layer-wise decay needs a ViT tower; use --layer-decay 1 for this model");
  }
  std::vector<ParameterGroup> out;
  for (auto& [key, group] : groups) out.push_back(std::move(group));
  return out;
}

}  // namespace slipstream
