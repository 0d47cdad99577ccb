// A trained model rebuilt from its weights for evaluation: a slipstream checkpoint folder (or its
// checkpoint_last / checkpoint_best link), or a .safetensors file such as a converted SLIP release.
// The architecture comes from the weights' own metadata (model_config written by slip_pretrain,
// or the registered name the converter records) unless `model` names one.
#pragma once
#include <string>

#include "slipstream/models/contrastive_models.h"

namespace slipstream {

struct EvaluationModel {
  ContrastiveModel model;
  std::string weights_path;  // the .safetensors file read
  std::string description;   // "SLIP_VITB16 from runs/x/checkpoints/epoch_0025_step_0000000/model.safetensors"
  std::string recorded_bpe;  // the BPE merges the weights record (slip_pretrain's run), "" when none
};

// The weights file a path names: a checkpoint folder's (or link's) model.safetensors, or the file
// itself. ConfigError naming `flag` when there is nothing at the path.
std::string weights_file(const std::string& path, const std::string& flag);
// The model config of a weights file: `model` (a name or JSON) when given, else the one the weights
// record. ConfigError when neither says.
ModelConfig recorded_model_config(const std::string& weights_file, const std::string& model);

// Throws ConfigError when the architecture cannot be told, StateDictError when the weights do not fit.
// `preprocessing` replaces what the config records of the image tower's preprocessing (flags).
EvaluationModel load_evaluation_model(const std::string& path, const std::string& model = "",
                                      const PreprocessingOverrides& preprocessing = {});

// The model as a CLIP-family one (image and text towers); ConfigError naming `task` for SimCLR.
ClipModelImpl& require_text_tower(const EvaluationModel& loaded, const std::string& task);

}  // namespace slipstream
