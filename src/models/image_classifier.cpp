#include "slipstream/models/image_classifier.h"

#include <ATen/ATen.h>

#include "slipstream/core/error.h"
#include "slipstream/core/safetensors.h"
#include "slipstream/models/contrastive_models.h"

namespace slipstream {

ImageClassifierImpl::ImageClassifierImpl(const VisionConfig& config, int64_t num_classes, double head_init_scale)
    : config_(config), num_classes_(num_classes) {
  if (num_classes <= 0) throw ConfigError("image classifier: the class count must be positive");
  visual = register_module("visual", make_vision_tower(config));
  head = register_module("head", torch::nn::Linear(visual->output_width(), num_classes));
  at::NoGradGuard no_grad;
  // BEiT: trunc_normal_(head.weight, std=.02) (truncated at +-2, i.e. +-100 std), then both x init_scale.
  head->weight.normal_(0.0, 0.02).clamp_(-2.0, 2.0).mul_(head_init_scale);
  head->bias.zero_();
}

at::Tensor ImageClassifierImpl::forward(const at::Tensor& images) {
  return head->forward(visual->forward(images));  // [B, D] -> [B, num_classes]
}

StateDict image_tower_weights(const StateDict& weights, const std::string& prefix, const std::string& source) {
  const std::vector<std::string> candidates =
      prefix.empty() ? std::vector<std::string>{"visual.", "module.visual."} : std::vector<std::string>{prefix};
  for (const std::string& candidate : candidates) {
    StateDict tower;
    for (const auto& [name, tensor] : weights) {
      if (name.rfind(candidate, 0) == 0) tower[name.substr(candidate.size())] = tensor;
    }
    if (!tower.empty()) return tower;
  }
  std::string first = weights.empty() ? "none" : weights.begin()->first;
  throw ConfigError(source + ": no tensor name starts with " +
                    (prefix.empty() ? std::string("visual. or module.visual.") : prefix) + " (the first is " + first +
                    "); pass --model-prefix");
}

LoadReport load_image_tower(ImageClassifierImpl& classifier, const std::string& weights_path,
                            const std::string& prefix) {
  const SafetensorsFile file = load_safetensors(weights_path);
  return load_state_dict(*classifier.visual, image_tower_weights(file.tensors, prefix, weights_path), /*strict=*/true);
}

}  // namespace slipstream
