#include "slipstream/eval/evaluation_model.h"

#include <filesystem>

#include "slipstream/core/error.h"
#include "slipstream/core/safetensors.h"
#include "slipstream/core/state_dict.h"
#include "slipstream/models/model_config.h"
#include "slipstream/models/registry.h"

namespace slipstream {

EvaluationModel load_evaluation_model(const std::string& path, const std::string& model) {
  namespace fs = std::filesystem;
  if (!fs::exists(path)) throw ConfigError("--resume " + path + ": no such file or folder");
  const std::string weights = fs::is_directory(path) ? (fs::path(path) / "model.safetensors").string() : path;
  const SafetensorsFile header = read_safetensors_header(weights);
  ModelConfig config;
  if (!model.empty()) {
    config = resolve_model_config(model);
  } else if (header.metadata.count("model_config")) {
    config = model_config_from_json(header.metadata.at("model_config"), weights + " (model_config)");
  } else if (header.metadata.count("model") && !header.metadata.at("model").empty()) {
    config = resolve_model_config(header.metadata.at("model"));
  } else {
    throw ConfigError(weights + ": the weights do not record their model; pass --model NAME or a model JSON");
  }
  EvaluationModel loaded;
  loaded.model = create_model(config);
  load_weights(*loaded.model, weights, /*strict=*/true);
  loaded.weights_path = weights;
  loaded.description = config.name + " from " + weights;
  return loaded;
}

ClipModelImpl& require_text_tower(const EvaluationModel& loaded, const std::string& task) {
  auto* clip = dynamic_cast<ClipModelImpl*>(loaded.model.get());
  if (!clip) throw ConfigError(loaded.description + ": has no text tower, so no " + task);
  return *clip;
}

}  // namespace slipstream
