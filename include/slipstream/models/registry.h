// Models by SLIP's names: CLIP_/SIMCLR_/SLIP_ x VITS16/VITB16/VITL16 (and timm's ViT-Tiny,
// VITT16, for small CPU runs), plus CLIP_RN50. A model can also come from a JSON config file.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "slipstream/models/contrastive_models.h"
#include "slipstream/models/model_config.h"

namespace slipstream {

// Every registered name, sorted.
std::vector<std::string> registered_models();

// The built-in config of a registered name; throws ConfigError listing the known names.
ModelConfig model_config(const std::string& name);

// `name_or_path` is a registered name, or a path ending in .json holding a model config.
ModelConfig resolve_model_config(const std::string& name_or_path);
ContrastiveModel create_model(const std::string& name_or_path);

// Parameter counts split by tower, from the module's own parameters.
struct ParameterCounts {
  int64_t vision = 0;  // visual.*
  int64_t text = 0;    // token/positional embeddings, transformer, ln_final
  int64_t heads = 0;   // projections, logit_scale, image_mlp
  int64_t total() const { return vision + text + heads; }
};
ParameterCounts count_parameters(const torch::nn::Module& model);

}  // namespace slipstream
