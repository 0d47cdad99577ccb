// A trained model written out for the tools researchers use next (`slip_tools export`):
//   open_clip  DIR/open_clip_config.json ({"model_cfg", "preprocess_cfg"}) and
//              DIR/open_clip_model.safetensors, loaded by
//              open_clip.create_model_and_transforms("local-dir:DIR") with the model's preprocessing;
//              DIR/NAME.json holds the model config alone (open_clip.add_model_config, then
//              pretrained=DIR/open_clip_model.safetensors; open_clip then applies its default
//              preprocessing unless given image_mean=, image_std=, image_interpolation=).
//              Image towers: the modified ResNet and OpenAI-layout ViTs (pre_norm) natively; SLIP's
//              timm-layout ViTs as open_clip's timm tower when a timm model has their exact shape.
//   hf         DIR/config.json, model.safetensors, preprocessor_config.json and the tokenizer files
//              (vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json), loaded by
//              transformers.CLIPModel / CLIPProcessor.from_pretrained(DIR): OpenAI-layout ViT CLIPs only.
//   slip       FILE as SLIP's main.py saves a checkpoint ({"epoch", "state_dict" with the `module.`
//              prefix, "best_acc1", "args"}), pickled by torch.save in a Python environment.
// What a format cannot represent exactly is refused with one ConfigError line saying why; nothing
// is ever approximated. Weights are copied unchanged, except that the modified ResNet's
// image_projection is folded into its attention pool's output projection for open_clip (which has
// no separate one): the identity an imported open_clip model carries folds exactly.
#pragma once
#include <string>
#include <vector>

namespace slipstream {

enum class ExportFormat { kOpenClip, kHuggingFace, kSlip };
ExportFormat parse_export_format(const std::string& name);  // open_clip | hf | slip; ConfigError otherwise

struct ExportRequest {
  std::string checkpoint;  // checkpoint folder or link, or .safetensors weights
  std::string model;       // model name or JSON when the weights do not record theirs
  ExportFormat format = ExportFormat::kOpenClip;
  std::string output;      // a folder (open_clip, hf) or a .pt file (slip)
  std::string bpe;         // hf: CLIP's BPE merges for the tokenizer files ("": found as the apps find them)
  std::string python;      // slip: a Python with torch and safetensors ("": $SLIPSTREAM_PYTHON, slipstream's venv, python3)
};

struct ExportResult {
  std::vector<std::string> files;  // what was written
  std::vector<std::string> notes;  // what a reader should know (e.g. the SimCLR head left out)
};

ExportResult export_model(const ExportRequest& request);

// The timm model whose architecture is exactly this ViT's (width, depth, heads, patch, MLP ratio,
// image size; class token, qkv bias, LayerNorm eps 1e-6, GELU), or "" when timm has none.
std::string matching_timm_vit(int64_t width, int64_t depth, int64_t heads, int64_t patch_size, double mlp_ratio,
                              int64_t image_size);

}  // namespace slipstream
