// slipstream -> Hugging Face transformers' CLIPModel (model_export.h), names as
// transformers/models/clip/modeling_clip.py declares them. CLIPModel holds exactly an
// OpenAI-layout ViT CLIP: a pre-norm ViT without patch bias, a causal text tower pooled at the
// first EOT, bias-free projections, one logit scale and no logit bias.
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

#include "export_common.h"
#include "slipstream/core/safetensors.h"
#include "slipstream/data/text/bpe_location.h"
#include "slipstream/data/text/clip_tokenizer.h"

namespace slipstream::export_detail {
namespace {

using nlohmann::ordered_json;
namespace fs = std::filesystem;
const std::string kFormat = "hf";
constexpr int64_t kStartOfText = 49406, kEndOfText = 49407;

// One transformer layer's weights: `qkv` packed [3D, D] as slipstream keeps them, split into
// transformers' q_proj, k_proj and v_proj.
void encoder_layer(const ExportSource& source, const std::string& from, const std::string& to, const char* qkv,
                   const char* qkv_bias, const char* out_proj, const char* norm1, const char* norm2, const char* fc1,
                   const char* fc2, std::map<std::string, at::Tensor>& out) {
  const at::Tensor weight = source.at(from + qkv), bias = source.at(from + qkv_bias);
  const std::vector<at::Tensor> weights = weight.chunk(3, 0), biases = bias.chunk(3, 0);  // [D, D] x 3, [D] x 3
  const char* names[] = {"q_proj", "k_proj", "v_proj"};
  for (int i = 0; i < 3; ++i) {
    out[to + "self_attn." + names[i] + ".weight"] = weights[i].contiguous();
    out[to + "self_attn." + names[i] + ".bias"] = biases[i].contiguous();
  }
  for (const char* leaf : {"weight", "bias"}) {
    out[to + "self_attn.out_proj." + leaf] = source.at(from + out_proj + leaf);
    out[to + "layer_norm1." + leaf] = source.at(from + norm1 + leaf);
    out[to + "layer_norm2." + leaf] = source.at(from + norm2 + leaf);
    out[to + "mlp.fc1." + leaf] = source.at(from + fc1 + leaf);
    out[to + "mlp.fc2." + leaf] = source.at(from + fc2 + leaf);
  }
}

std::string merges_text(const ClipTokenizer& tokenizer) {
  std::string text = "#version: 0.2\n";
  for (const auto& [first, second] : tokenizer.merges()) text += first + " " + second + "\n";
  return text;
}

ordered_json vocabulary_json(const ClipTokenizer& tokenizer) {
  ordered_json vocab = ordered_json::object();
  const std::vector<std::string>& tokens = tokenizer.vocabulary();
  for (size_t id = 0; id < tokens.size(); ++id) {
    // transformers' CLIPTokenizer names the special tokens as OpenAI's vocabulary does
    const auto index = static_cast<int64_t>(id);
    const std::string token = index == kStartOfText ? "<|startoftext|>" : index == kEndOfText ? "<|endoftext|>" : tokens[id];
    vocab[token] = id;
  }
  return vocab;
}

}  // namespace

ExportResult export_hugging_face(const ExportSource& source, const std::string& folder, const std::string& bpe) {
  const ModelConfig& c = source.config;
  const VisionConfig& v = c.vision;
  require_representable(c.has_text(), kFormat, c, "a " + c.family + " model has no text tower; CLIPModel needs one");
  require_representable(v.type == "vit", kFormat, c,
                        "transformers' CLIPModel has no modified ResNet image tower (use --format open_clip)");
  require_representable(v.pre_norm, kFormat, c,
                        "CLIPModel's ViT always applies pre_layrnorm and has no patch-embedding bias; this is a "
                        "timm-layout ViT (use --format open_clip)");
  require_representable(c.contrastive_loss == "clip", kFormat, c,
                        "a SigLIP model's logit_bias has no place in CLIPModel, and transformers' SiglipModel has "
                        "neither a class token nor a causal text tower (use --format open_clip)");
  require_representable(c.text.token_layout == "clip", kFormat, c, "DeCLIP's token layout is not CLIP's vocabulary");
  require_representable(c.text.vocab_size == ClipTokenizer::kVocabSize, kFormat, c,
                        "the text tower's vocabulary is not CLIP's 49408 tokens");
  const double mlp = v.width * v.mlp_ratio;
  require_representable(mlp == std::floor(mlp), kFormat, c, "the ViT's MLP width is not a whole number");
  require_representable(v.image_resize_mode == "shortest" || v.image_crop_fraction == 1.0, kFormat, c,
                        "a squash resize with a crop fraction is not CLIPImageProcessor's");
  ExportResult result;
  if (c.family == "slip") result.notes.push_back("the SimCLR head (image_mlp.*) is SLIP's training head, not part of CLIPModel: left out");

  std::map<std::string, at::Tensor> out;
  out["vision_model.embeddings.patch_embedding.weight"] = source.at("visual.patch_embed.proj.weight");
  out["vision_model.embeddings.class_embedding"] = source.at("visual.cls_token").reshape({v.width});  // [W]
  out["vision_model.embeddings.position_embedding.weight"] = source.at("visual.pos_embed").squeeze(0);  // [N + 1, W]
  for (const char* leaf : {"weight", "bias"}) {
    out[std::string("vision_model.pre_layrnorm.") + leaf] = source.at(std::string("visual.norm_pre.") + leaf);
    out[std::string("vision_model.post_layernorm.") + leaf] = source.at(std::string("visual.norm.") + leaf);
    out[std::string("text_model.final_layer_norm.") + leaf] = source.at(std::string("ln_final.") + leaf);
  }
  for (int64_t i = 0; i < v.depth; ++i) {
    encoder_layer(source, "visual.blocks." + std::to_string(i) + ".", "vision_model.encoder.layers." + std::to_string(i) + ".",
                  "attn.qkv.weight", "attn.qkv.bias", "attn.proj.", "norm1.", "norm2.", "mlp.fc1.", "mlp.fc2.", out);
  }
  for (int64_t i = 0; i < c.text.layers; ++i) {
    encoder_layer(source, "transformer.resblocks." + std::to_string(i) + ".", "text_model.encoder.layers." + std::to_string(i) + ".",
                  "attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj.", "ln_1.", "ln_2.", "mlp.c_fc.",
                  "mlp.c_proj.", out);
  }
  out["text_model.embeddings.token_embedding.weight"] = source.at("token_embedding.weight");
  out["text_model.embeddings.position_embedding.weight"] = source.at("positional_embedding");
  out["visual_projection.weight"] = source.at("image_projection").t().contiguous();  // [E, W]
  out["text_projection.weight"] = source.at("text_projection").t().contiguous();     // [E, W]
  out["logit_scale"] = source.at("logit_scale");

  const ordered_json text_config = {
      {"model_type", "clip_text_model"}, {"vocab_size", c.text.vocab_size}, {"hidden_size", c.text.width},
      {"intermediate_size", 4 * c.text.width}, {"num_hidden_layers", c.text.layers},
      {"num_attention_heads", c.text.heads}, {"max_position_embeddings", c.text.context_length},
      {"hidden_act", c.text.activation}, {"layer_norm_eps", 1e-5}, {"projection_dim", c.embed_dim},
      {"bos_token_id", kStartOfText}, {"eos_token_id", kEndOfText}, {"pad_token_id", 1}};
  const ordered_json vision_config = {
      {"model_type", "clip_vision_model"}, {"hidden_size", v.width}, {"intermediate_size", static_cast<int64_t>(mlp)},
      {"num_hidden_layers", v.depth}, {"num_attention_heads", v.heads}, {"image_size", v.image_size},
      {"patch_size", v.patch_size}, {"num_channels", 3}, {"hidden_act", v.activation},
      {"layer_norm_eps", v.layer_norm_eps}, {"projection_dim", c.embed_dim}};
  const ordered_json config = {{"architectures", {"CLIPModel"}}, {"model_type", "clip"},
                               {"projection_dim", c.embed_dim}, {"logit_scale_init_value", 2.6592},
                               {"initializer_factor", 1.0}, {"dtype", "float32"},
                               {"text_config", text_config}, {"vision_config", vision_config}};
  const int64_t resized = static_cast<int64_t>(std::floor(static_cast<double>(v.image_size) / v.image_crop_fraction + 1e-9));
  const ordered_json size = v.image_resize_mode == "squash" ? ordered_json{{"height", resized}, {"width", resized}}
                                                            : ordered_json{{"shortest_edge", resized}};
  const ordered_json preprocessor = {
      {"image_processor_type", "CLIPImageProcessor"}, {"processor_class", "CLIPProcessor"},
      {"do_resize", true}, {"size", size}, {"resample", v.image_interpolation == "bicubic" ? 3 : 2},
      {"do_center_crop", true}, {"crop_size", {{"height", v.image_size}, {"width", v.image_size}}},
      {"do_rescale", true}, {"rescale_factor", 1.0 / 255.0}, {"do_normalize", true},
      {"image_mean", v.image_mean}, {"image_std", v.image_std}, {"do_convert_rgb", true}};

  const auto recorded = source.metadata.find("bpe");  // the run's merges, when the weights record them
  const BpeLocation merges = find_clip_bpe(bpe, recorded == source.metadata.end() ? "" : recorded->second);
  const ClipTokenizer tokenizer(merges.path);
  const ordered_json special_tokens = {{"bos_token", "<|startoftext|>"}, {"eos_token", "<|endoftext|>"},
                                       {"unk_token", "<|endoftext|>"}, {"pad_token", "<|endoftext|>"}};
  ordered_json tokenizer_config = special_tokens;
  tokenizer_config.update({{"tokenizer_class", "CLIPTokenizer"}, {"model_max_length", c.text.context_length},
                           {"do_lower_case", true}, {"errors", "replace"}, {"processor_class", "CLIPProcessor"}});

  const fs::path dir(folder);
  write_text_file((dir / "config.json").string(), config.dump(2) + "\n", result);
  write_text_file((dir / "preprocessor_config.json").string(), preprocessor.dump(2) + "\n", result);
  write_text_file((dir / "vocab.json").string(), vocabulary_json(tokenizer).dump() + "\n", result);
  write_text_file((dir / "merges.txt").string(), merges_text(tokenizer), result);
  write_text_file((dir / "tokenizer_config.json").string(), tokenizer_config.dump(2) + "\n", result);
  write_text_file((dir / "special_tokens_map.json").string(), special_tokens.dump(2) + "\n", result);
  save_safetensors((dir / "model.safetensors").string(), out, {{"format", "pt"}, {"exported_by", "slipstream"}});
  result.files.push_back((dir / "model.safetensors").string());
  result.notes.push_back("tokenizer files from CLIP's BPE merges at " + merges.describe());
  return result;
}

}  // namespace slipstream::export_detail
