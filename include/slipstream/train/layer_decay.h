// BEiT's layer-wise learning-rate decay for finetuning a ViT (run_class_finetuning.py,
// optim_factory.get_parameter_groups with LayerDecayValueAssigner): a parameter of layer id i
// (of depth + 2) trains at lr x decay^(depth + 1 - i), so the head trains at the full lr and each
// block below it at `decay` times the one above. Weight decay is skipped for 1-D tensors, biases,
// pos_embed and cls_token (timm's no_weight_decay).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "slipstream/train/adamw.h"

namespace torch::nn {
class Module;
}

namespace slipstream {

// BEiT's get_layer_id_for_vit on a name relative to the ViT tower: 0 for cls_token, pos_embed,
// patch_embed.* and norm_pre.* (the embedding side), i + 1 for blocks.i.*, depth + 1 for the rest
// (the final norm; the head, which is not in the tower).
int64_t vit_layer_id(const std::string& tower_name, int64_t depth);

// Parameter groups of a model whose tower is registered under `tower_prefix` (ImageClassifier:
// "visual."): one per (layer, decayed or not), lr_scale = layer_decay^(depth + 1 - layer id).
// Parameters outside the tower are at the top (lr_scale 1). Frozen parameters are left out.
// layer_decay 1 gives every group lr_scale 1 (any tower, e.g. CLIP's ResNet-50); otherwise the
// tower must be a ViT of `depth` blocks (ConfigError).
std::vector<ParameterGroup> layer_decay_parameter_groups(const torch::nn::Module& model, double weight_decay,
                                                         double layer_decay, int64_t depth,
                                                         const std::string& tower_prefix = "visual.");

}  // namespace slipstream
