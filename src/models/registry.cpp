#include "slipstream/models/registry.h"

#include <algorithm>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

VisionConfig vit(int64_t width, int64_t depth, int64_t heads) {
  VisionConfig v;
  v.type = "vit";
  v.width = width;
  v.depth = depth;
  v.heads = heads;
  return v;
}

VisionConfig modified_resnet50() {
  VisionConfig v;
  v.type = "modified_resnet";
  v.width = 64;
  v.heads = 32;  // open_clip: vision_width * 32 // 64
  v.resnet_layers = {3, 4, 6, 3};
  v.output_dim = 1024;
  return v;
}

std::map<std::string, ModelConfig> build_registry() {
  const std::map<std::string, VisionConfig> vits = {
      {"VITT16", vit(192, 12, 3)},    // timm vit_tiny_patch16_224
      {"VITS16", vit(384, 12, 12)},   // SLIP's MoCo v3 ViT-S (12 heads)
      {"VITB16", vit(768, 12, 12)},   // vit_base_patch16_224
      {"VITL16", vit(1024, 24, 16)},  // vit_large_patch16_224
  };
  std::map<std::string, ModelConfig> registry;
  for (const char* family : {"CLIP", "SIMCLR", "SLIP"}) {
    for (const auto& [suffix, vision] : vits) {
      ModelConfig c;
      c.name = std::string(family) + "_" + suffix;
      c.family = family == std::string("CLIP") ? "clip" : family == std::string("SIMCLR") ? "simclr" : "slip";
      c.vision = vision;
      registry[c.name] = c;
    }
  }
  ModelConfig rn50;
  rn50.name = "CLIP_RN50";
  rn50.family = "clip";
  rn50.vision = modified_resnet50();
  registry[rn50.name] = rn50;
  // DeCLIP (Sense-GVT/DeCLIP): CLIP's towers, the text side with a <|mask|> row for masked LM.
  for (const auto& [suffix, vision] : std::map<std::string, VisionConfig>{
           {"VITB16", vits.at("VITB16")}, {"VITB32", vit(768, 12, 12)}, {"RN50", modified_resnet50()}}) {
    ModelConfig c;
    c.name = "DECLIP_" + suffix;
    c.family = "declip";
    c.vision = vision;
    if (suffix == "VITB32") c.vision.patch_size = 32;
    c.text.vocab_size = 49409;
    c.text.token_layout = "declip";
    registry[c.name] = c;
  }
  return registry;
}

const std::map<std::string, ModelConfig>& registry() {
  static const std::map<std::string, ModelConfig> configs = build_registry();
  return configs;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::vector<std::string> registered_models() {
  std::vector<std::string> names;
  for (const auto& item : registry()) names.push_back(item.first);
  return names;
}

ModelConfig model_config(const std::string& name) {
  auto found = registry().find(name);
  if (found == registry().end()) {
    std::string known;
    for (const auto& item : registry()) known += (known.empty() ? "" : ", ") + item.first;
    throw ConfigError("unknown model '" + name + "' (registered: " + known + "; or pass a .json config)");
  }
  return found->second;
}

ModelConfig resolve_model_config(const std::string& name_or_path) {
  if (ends_with(name_or_path, ".json")) return load_model_config(name_or_path);
  return model_config(name_or_path);
}

ContrastiveModel create_model(const std::string& name_or_path) {
  return create_model(resolve_model_config(name_or_path));
}

ParameterCounts count_parameters(const torch::nn::Module& model) {
  ParameterCounts counts;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    const int64_t n = item.value().numel();
    auto starts = [&](const char* prefix) { return name.rfind(prefix, 0) == 0; };
    if (starts("visual.")) {
      counts.vision += n;
    } else if (starts("token_embedding.") || name == "positional_embedding" || starts("transformer.") ||
               starts("ln_final.")) {
      counts.text += n;
    } else {
      counts.heads += n;
    }
  }
  return counts;
}

}  // namespace slipstream
