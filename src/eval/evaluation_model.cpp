#include "slipstream/eval/evaluation_model.h"

#include <filesystem>

#include "slipstream/core/error.h"
#include "slipstream/core/safetensors.h"
#include "slipstream/core/state_dict.h"
#include "slipstream/models/model_config.h"
#include "slipstream/models/registry.h"

namespace slipstream {

std::string weights_file(const std::string& path, const std::string& flag) {
  namespace fs = std::filesystem;
  if (!fs::exists(path)) throw ConfigError(flag + " " + path + ": no such file or folder");
  return fs::is_directory(path) ? (fs::path(path) / "model.safetensors").string() : path;
}

ModelConfig recorded_model_config(const std::string& weights, const std::string& model) {
  if (!model.empty()) return resolve_model_config(model);
  const SafetensorsFile header = read_safetensors_header(weights);
  if (header.metadata.count("model_config")) {
    return model_config_from_json(header.metadata.at("model_config"), weights + " (model_config)");
  }
  if (header.metadata.count("model") && !header.metadata.at("model").empty()) {
    return resolve_model_config(header.metadata.at("model"));
  }
  throw ConfigError(weights + ": the weights do not record their model; pass --model NAME or a model JSON");
}

EvaluationModel load_evaluation_model(const std::string& path, const std::string& model,
                                      const PreprocessingOverrides& preprocessing) {
  const std::string weights = weights_file(path, "--resume");
  ModelConfig config = recorded_model_config(weights, model);
  apply_preprocessing_overrides(config.vision, preprocessing);
  EvaluationModel loaded;
  loaded.model = create_model(config);
  load_weights(*loaded.model, weights, /*strict=*/true);
  loaded.weights_path = weights;
  const SafetensorsFile header = read_safetensors_header(weights);
  if (header.metadata.count("bpe")) loaded.recorded_bpe = header.metadata.at("bpe");
  loaded.description = config.name + " from " + weights;
  return loaded;
}

ClipModelImpl& require_text_tower(const EvaluationModel& loaded, const std::string& task) {
  auto* clip = dynamic_cast<ClipModelImpl*>(loaded.model.get());
  if (!clip) throw ConfigError(loaded.description + ": has no text tower, so no " + task);
  return *clip;
}

}  // namespace slipstream
