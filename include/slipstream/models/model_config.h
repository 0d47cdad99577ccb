// The shape of a model: which towers, how wide and deep, and the heads on top.
// Built-in shapes live in the registry; the same structure reads from configs/models/*.json.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace slipstream {

// Image tower: a ViT (timm's VisionTransformer) or CLIP's modified ResNet.
struct VisionConfig {
  std::string type = "vit";  // "vit" | "modified_resnet"
  int64_t image_size = 224;
  // ViT
  int64_t patch_size = 16;
  int64_t width = 768;  // ViT embedding width; stem width (64) for the modified ResNet
  int64_t depth = 12;
  int64_t heads = 12;
  double mlp_ratio = 4.0;
  double drop_path = 0.0;     // stochastic depth rate at the last block (linear from 0), for finetuning
  bool pre_norm = false;      // a LayerNorm before the blocks and no patch-embedding bias
                              // (OpenAI CLIP ViTs; timm's `norm_pre`)
  std::string activation = "gelu";  // "gelu" (timm) | "quick_gelu" (OpenAI CLIP ViTs)
  double layer_norm_eps = 1e-6;     // timm's ViT; OpenAI CLIP ViTs use 1e-5
  // modified ResNet
  std::vector<int64_t> resnet_layers = {3, 4, 6, 3};
  int64_t output_dim = 1024;  // attention-pool output width
  // The tower's own preprocessing (open_clip's CLIPVisionCfg names; data/image/preprocessing.h):
  // SLIP's by default, OpenAI's / open_clip's for their imported weights. Every view and every
  // evaluation app reads these (a flag can override), so a checkpoint needs nothing else.
  std::vector<double> image_mean = {0.485, 0.456, 0.406};
  std::vector<double> image_std = {0.229, 0.224, 0.225};
  std::string image_interpolation = "bilinear";  // evaluation resize: "bilinear" (SLIP) | "bicubic" (OpenAI, open_clip)
  std::string image_resize_mode = "shortest";    // "shortest" (Resize + CenterCrop) | "squash"
  double image_crop_fraction = 1.0;              // zero-shot evaluation: resize to size / fraction, crop size

  // Width of the tower's pooled output (the input of the image projection and SSL head).
  int64_t output_width() const { return type == "vit" ? width : output_dim; }
};

// Text tower: OpenAI CLIP's causal transformer pooled at the EOT token.
struct TextConfig {
  int64_t context_length = 77;
  int64_t vocab_size = 49408;
  int64_t width = 512;
  int64_t heads = 8;
  int64_t layers = 12;
  std::string activation = "quick_gelu";  // "quick_gelu" (OpenAI, SLIP) | "gelu" (open_clip's models without -quickgelu)
  // Token ids: "clip" (49408 = 256 bytes, their </w> forms, 48894 merges, SOT 49406, EOT 49407) or
  // "declip" (vocab 49409, DeCLIP's order: <|mask|> 49406, SOT 49407, EOT 49408). Inputs always use
  // CLIP's ids plus 49408 for <|mask|>; a declip tower maps them to its rows on entry, so EOT stays
  // the largest id (argmax pooling) and DeCLIP's released embeddings load unchanged.
  std::string token_layout = "clip";
};

// SimCLR projection MLP: vision width -> mlp_dim -> mlp_dim -> emb_dim.
struct SslHeadConfig {
  int64_t mlp_dim = 4096;
  int64_t emb_dim = 256;
  // SLIP with a modified ResNet tower: the side of the two SimCLR views, when smaller than
  // vision.image_size (multi-crop style: a 32 px view costs a quarter of a 64 px one); 0: the same.
  int64_t image_size = 0;
};

struct ModelConfig {
  std::string name;              // e.g. "SLIP_VITB16"
  std::string family = "clip";   // "clip" | "simclr" | "slip" | "declip"
  int64_t embed_dim = 512;       // joint image-text embedding
  // The image-text objective the model is built for: "clip" (softmax InfoNCE; logit_scale starts at
  // ln(1/0.07)) or "siglip" (pairwise sigmoid; logit_scale starts at ln 10, plus a logit_bias at -10).
  std::string contrastive_loss = "clip";
  // A learned image projection (the tower's output width -> embed_dim) over the image tower, as
  // SLIP's models have. false: the tower's output is the image embedding, as in CLIP's and
  // open_clip's modified ResNet, whose attention pool projects to embed_dim itself (modified_resnet
  // towers with vision.output_dim == embed_dim only). The two compute the same family of
  // functions but learn differently: the product of two matrices trains as a deeper linear map.
  bool image_projection = true;
  VisionConfig vision;
  TextConfig text;
  SslHeadConfig ssl;

  bool has_text() const { return family == "clip" || family == "slip" || family == "declip"; }
  bool has_ssl_head() const { return family == "simclr" || family == "slip"; }
};

// Flags that replace a tower's recorded preprocessing (open_clip_train's names: --image-mean,
// --image-std, --image-interpolation, --image-resize-mode; and --image-crop-fraction). Empty: keep.
struct PreprocessingOverrides {
  std::vector<double> image_mean, image_std;
  std::string image_interpolation, image_resize_mode;
  double image_crop_fraction = 0.0;
  bool empty() const;
};
// The overrides as a JSON object under their flag names ("image-mean", ...), for a run's config.json.
std::string to_json(const PreprocessingOverrides& overrides);
// Applies the overrides and checks the result (ConfigError naming the flag).
void apply_preprocessing_overrides(VisionConfig& vision, const PreprocessingOverrides& overrides);
// ConfigError naming `where` (e.g. the model) unless mean/std hold 3 values, std > 0, the
// interpolation and resize mode are known and the crop fraction is in (0, 1].
void validate_preprocessing(const VisionConfig& vision, const std::string& where);

bool operator==(const ModelConfig& a, const ModelConfig& b);
inline bool operator!=(const ModelConfig& a, const ModelConfig& b) { return !(a == b); }

// Checks ranges and consistency; throws ConfigError naming the field.
void validate(const ModelConfig& config);

// JSON I/O. Unknown keys are errors (a typo must not silently fall back to a default).
std::string to_json(const ModelConfig& config);
ModelConfig model_config_from_json(const std::string& text, const std::string& source = "<json>");
ModelConfig load_model_config(const std::string& path);

}  // namespace slipstream
