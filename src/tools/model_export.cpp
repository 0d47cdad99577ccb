#include "slipstream/tools/model_export.h"

#include <filesystem>

#include "export_common.h"
#include "slipstream/core/atomic_file.h"
#include "slipstream/core/safetensors.h"
#include "slipstream/eval/evaluation_model.h"

namespace slipstream {

namespace export_detail {

const at::Tensor& ExportSource::at(const std::string& name) const {
  const auto found = tensors.find(name);
  if (found == tensors.end()) throw StateDictError(weights_path + ": no tensor '" + name + "' (the model config expects it)");
  return found->second;
}

void require_representable(bool representable, const std::string& format, const ModelConfig& config,
                           const std::string& reason) {
  if (!representable) throw ConfigError("export --format " + format + ": " + config.name + ": " + reason);
}

void write_text_file(const std::string& path, const std::string& text, ExportResult& result) {
  write_file_atomically(path, text);
  result.files.push_back(path);
}

}  // namespace export_detail

ExportFormat parse_export_format(const std::string& name) {
  if (name == "open_clip") return ExportFormat::kOpenClip;
  if (name == "hf") return ExportFormat::kHuggingFace;
  if (name == "slip") return ExportFormat::kSlip;
  throw ConfigError("--format " + name + ": expected open_clip, hf or slip");
}

ExportResult export_model(const ExportRequest& request) {
  namespace fs = std::filesystem;
  export_detail::ExportSource source;
  source.weights_path = weights_file(request.checkpoint, "export");
  source.config = recorded_model_config(source.weights_path, request.model);
  SafetensorsFile file = load_safetensors(source.weights_path);
  source.tensors = std::move(file.tensors);
  source.metadata = std::move(file.metadata);
  if (request.output.empty()) throw ConfigError("export: --output is required");
  if (request.format == ExportFormat::kSlip) {
    if (fs::path(request.output).has_parent_path()) fs::create_directories(fs::path(request.output).parent_path());
    return export_detail::export_slip(source, request.output, request.python);
  }
  if (fs::exists(request.output) && !fs::is_directory(request.output)) {
    throw ConfigError("export --output " + request.output + ": exists and is not a folder");
  }
  fs::create_directories(request.output);
  if (request.format == ExportFormat::kOpenClip) return export_detail::export_open_clip(source, request.output);
  return export_detail::export_hugging_face(source, request.output, request.bpe);
}

std::string matching_timm_vit(int64_t width, int64_t depth, int64_t heads, int64_t patch_size, double mlp_ratio,
                              int64_t image_size) {
  struct TimmVit {
    const char* name;
    int64_t width, depth, heads, patch_size, image_size;
  };
  // timm's VisionTransformer configs (timm/models/vision_transformer.py), all with mlp_ratio 4,
  // a class token, qkv bias and LayerNorm eps 1e-6 (tests/interop checks each against timm).
  static const TimmVit kVits[] = {
      {"vit_tiny_patch16_224", 192, 12, 3, 16, 224},   {"vit_tiny_patch16_384", 192, 12, 3, 16, 384},
      {"vit_small_patch16_224", 384, 12, 6, 16, 224},  {"vit_small_patch16_384", 384, 12, 6, 16, 384},
      {"vit_small_patch32_224", 384, 12, 6, 32, 224},  {"vit_base_patch16_224", 768, 12, 12, 16, 224},
      {"vit_base_patch16_384", 768, 12, 12, 16, 384},  {"vit_base_patch32_224", 768, 12, 12, 32, 224},
      {"vit_base_patch32_384", 768, 12, 12, 32, 384},  {"vit_base_patch8_224", 768, 12, 12, 8, 224},
      {"vit_large_patch16_224", 1024, 24, 16, 16, 224}, {"vit_large_patch16_384", 1024, 24, 16, 16, 384},
      {"vit_large_patch32_384", 1024, 24, 16, 32, 384}, {"vit_huge_patch14_224", 1280, 32, 16, 14, 224},
  };
  if (mlp_ratio != 4.0) return "";
  for (const TimmVit& vit : kVits) {
    if (vit.width == width && vit.depth == depth && vit.heads == heads && vit.patch_size == patch_size &&
        vit.image_size == image_size) {
      return vit.name;
    }
  }
  return "";
}

}  // namespace slipstream
