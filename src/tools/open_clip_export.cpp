// slipstream -> open_clip (model_export.h). open_clip's CLIP class (open_clip/model.py): the text
// tower under the same names as slipstream's, the image tower as `visual.*` in one of three forms.
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "export_common.h"
#include "slipstream/core/safetensors.h"

namespace slipstream::export_detail {
namespace {

using nlohmann::ordered_json;
namespace fs = std::filesystem;
const std::string kFormat = "open_clip";

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// The modified ResNet: slipstream's names are open_clip's; its image_projection (E' -> E after the
// attention pool's c_proj), when it has one, folds into c_proj, since open_clip's pool projects to
// the joint space.
void resnet_tower(const ExportSource& source, std::map<std::string, at::Tensor>& out) {
  const VisionConfig& v = source.config.vision;
  require_representable((v.width * 32) % v.heads == 0, kFormat, source.config,
                        "open_clip derives the attention-pool heads as width * 32 / head_width; " +
                            std::to_string(v.heads) + " heads do not divide " + std::to_string(v.width * 32));
  for (const auto& [name, tensor] : source.tensors) {
    if (starts_with(name, "visual.")) out[name] = tensor;
  }
  if (!source.config.image_projection) return;  // the attention pool projects to E already
  const at::Tensor projection = source.at("image_projection");  // [output_dim, E]
  const at::Tensor weight = source.at("visual.attnpool.c_proj.weight");  // [output_dim, D]
  const at::Tensor bias = source.at("visual.attnpool.c_proj.bias");      // [output_dim]
  if (projection.size(0) == projection.size(1) &&
      at::equal(projection, at::eye(projection.size(0), projection.options()))) {
    return;  // an imported open_clip model: the identity, nothing to fold
  }
  const at::Tensor p = projection.to(at::kDouble);
  out["visual.attnpool.c_proj.weight"] = p.t().matmul(weight.to(at::kDouble)).to(weight.scalar_type());  // [E, D]
  out["visual.attnpool.c_proj.bias"] = p.t().matmul(bias.to(at::kDouble)).to(bias.scalar_type());        // [E]
}

// An OpenAI-layout ViT (pre_norm): timm names back to open_clip's VisionTransformer.
void openai_vit_tower(const ExportSource& source, std::map<std::string, at::Tensor>& out) {
  const VisionConfig& v = source.config.vision;
  out["visual.conv1.weight"] = source.at("visual.patch_embed.proj.weight");
  out["visual.class_embedding"] = source.at("visual.cls_token").reshape({v.width});           // [W]
  out["visual.positional_embedding"] = source.at("visual.pos_embed").squeeze(0);             // [N + 1, W]
  for (const char* leaf : {"weight", "bias"}) {
    out[std::string("visual.ln_pre.") + leaf] = source.at(std::string("visual.norm_pre.") + leaf);
    out[std::string("visual.ln_post.") + leaf] = source.at(std::string("visual.norm.") + leaf);
  }
  const std::pair<const char*, const char*> renames[] = {
      {"norm1.", "ln_1."},       {"norm2.", "ln_2."},          {"attn.qkv.weight", "attn.in_proj_weight"},
      {"attn.qkv.bias", "attn.in_proj_bias"}, {"attn.proj.", "attn.out_proj."}, {"mlp.fc1.", "mlp.c_fc."},
      {"mlp.fc2.", "mlp.c_proj."}};
  for (int64_t block = 0; block < v.depth; ++block) {
    const std::string from = "visual.blocks." + std::to_string(block) + ".";
    const std::string to = "visual.transformer.resblocks." + std::to_string(block) + ".";
    for (const auto& [name, tensor] : source.tensors) {
      if (!starts_with(name, from)) continue;
      std::string leaf = name.substr(from.size());
      for (const auto& [old_name, new_name] : renames) {
        if (starts_with(leaf, old_name)) {
          leaf = new_name + leaf.substr(std::string(old_name).size());
          break;
        }
      }
      out[to + leaf] = tensor;
    }
  }
  out["visual.proj"] = source.at("image_projection");  // [W, E]
}

}  // namespace

ExportResult export_open_clip(const ExportSource& source, const std::string& folder) {
  const ModelConfig& c = source.config;
  const VisionConfig& v = c.vision;
  require_representable(c.has_text(), kFormat, c, "a " + c.family + " model has no text tower; open_clip's CLIP needs one");
  require_representable(c.text.token_layout == "clip", kFormat, c,
                        "DeCLIP's token layout (vocabulary 49409 with <|mask|>) is not open_clip's");
  require_representable(v.image_crop_fraction == 1.0, kFormat, c,
                        "open_clip's eval transform has no crop fraction (vision.image_crop_fraction must be 1)");
  ExportResult result;
  if (c.family == "slip") result.notes.push_back("the SimCLR head (image_mlp.*) is SLIP's training head, not part of open_clip's CLIP: left out");

  ordered_json vision = {{"image_size", v.image_size}};
  std::map<std::string, at::Tensor> out;
  const bool quick_gelu = c.text.activation == "quick_gelu";
  if (v.type == "modified_resnet") {
    vision["layers"] = v.resnet_layers;
    vision["width"] = v.width;
    vision["head_width"] = v.width * 32 / v.heads;
    resnet_tower(source, out);
  } else if (v.pre_norm) {
    require_representable(v.layer_norm_eps == 1e-5, kFormat, c,
                          "open_clip's VisionTransformer uses LayerNorm eps 1e-5, this tower " + std::to_string(v.layer_norm_eps));
    require_representable((v.activation == "quick_gelu") == quick_gelu, kFormat, c,
                          "open_clip's quick_gelu applies to both towers; here the image tower uses " + v.activation +
                              " and the text tower " + c.text.activation);
    require_representable(v.width % v.heads == 0, kFormat, c, "width not divisible by heads");
    vision.update({{"layers", v.depth}, {"width", v.width}, {"head_width", v.width / v.heads},
                   {"patch_size", v.patch_size}, {"mlp_ratio", v.mlp_ratio}});
    openai_vit_tower(source, out);
  } else {
    // SLIP's timm-layout ViT (patch-embedding bias, no pre-norm): open_clip's timm tower, exactly
    // when timm registers this shape (open_clip builds the trunk by name only).
    const std::string timm_name = matching_timm_vit(v.width, v.depth, v.heads, v.patch_size, v.mlp_ratio, v.image_size);
    require_representable(v.layer_norm_eps == 1e-6 && v.activation == "gelu", kFormat, c,
                          "a timm-layout ViT needs timm's LayerNorm eps 1e-6 and GELU");
    require_representable(!timm_name.empty(), kFormat, c,
                          "no timm model has this ViT's shape (width " + std::to_string(v.width) + ", depth " +
                              std::to_string(v.depth) + ", " + std::to_string(v.heads) + " heads, patch " +
                              std::to_string(v.patch_size) + ", " + std::to_string(v.image_size) +
                              " px), and open_clip builds timm towers by name");
    vision.update({{"timm_model_name", timm_name}, {"timm_model_pretrained", false}, {"timm_pool", ""},
                   {"timm_proj", "linear"}, {"timm_proj_bias", false}});
    for (const auto& [name, tensor] : source.tensors) {
      if (starts_with(name, "visual.")) out["visual.trunk." + name.substr(7)] = tensor;
    }
    out["visual.head.proj.weight"] = source.at("image_projection").t().contiguous();  // [E, W]
  }

  for (const auto& [name, tensor] : source.tensors) {  // the text tower: open_clip's names already
    if (starts_with(name, "token_embedding.") || starts_with(name, "transformer.") || starts_with(name, "ln_final.") ||
        name == "positional_embedding" || name == "text_projection" || name == "logit_scale" || name == "logit_bias") {
      out[name] = tensor;
    }
  }
  ordered_json model_cfg = {
      {"embed_dim", c.embed_dim},
      {"quick_gelu", quick_gelu},
      {"vision_cfg", vision},
      {"text_cfg", {{"context_length", c.text.context_length}, {"vocab_size", c.text.vocab_size},
                    {"width", c.text.width}, {"heads", c.text.heads}, {"layers", c.text.layers}}}};
  if (c.contrastive_loss == "siglip") model_cfg["init_logit_bias"] = -10.0;  // creates logit_bias (value: the weights')
  const ordered_json preprocess_cfg = {{"size", v.image_size}, {"mode", "RGB"}, {"mean", v.image_mean},
                                       {"std", v.image_std}, {"interpolation", v.image_interpolation},
                                       {"resize_mode", v.image_resize_mode}};
  const fs::path dir(folder);
  write_text_file((dir / "open_clip_config.json").string(),
                  ordered_json{{"model_cfg", model_cfg}, {"preprocess_cfg", preprocess_cfg}}.dump(2) + "\n", result);
  const std::string name = c.name.empty() ? "slipstream_model" : c.name;
  write_text_file((dir / (name + ".json")).string(), model_cfg.dump(2) + "\n", result);
  save_safetensors((dir / "open_clip_model.safetensors").string(), out,
                   {{"format", "pt"}, {"exported_by", "slipstream"}, {"source", source.weights_path}});
  result.files.push_back((dir / "open_clip_model.safetensors").string());
  return result;
}

}  // namespace slipstream::export_detail
