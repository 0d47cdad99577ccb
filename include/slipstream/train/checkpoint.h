// Training checkpoints in a run's output folder. Each is a folder
// checkpoints/epoch_EEEE_step_SSSSSSS/ holding model.safetensors (the weights, readable by any
// safetensors tool and by load_weights) and training_state.safetensors (optimizer moments, loss
// scaler, RNG states, and as metadata the position and the run's config). A checkpoint is written
// into a temporary folder, fsync'ed, renamed into place, and only then named by the
// `checkpoint_last` link (replaced atomically), so a crash or kill while writing leaves the
// previous checkpoint the one a resume finds.
#pragma once
#include <ATen/core/Tensor.h>

#include <optional>
#include <string>

#include "slipstream/core/state_dict.h"

namespace torch::nn {
class Module;
}

namespace slipstream {

struct TrainingState {
  int64_t epoch = 0;       // the epoch to continue
  int64_t batch = 0;       // the loader step to continue from within it (0: the epoch's start)
  double best_acc1 = 0.0;  // best zero-shot top-1 so far
  StateDict optimizer;     // AdamW::state()
  StateDict scaler;        // GradScaler::state()
  StateDict loss;          // ContrastiveLoss::state() (DeCLIP's nearest-neighbour queue)
  StateDict rng;           // "cpu", "cuda:N": the default generators' states
  std::string config_json; // the run's resolved config
  std::string model_config_json;  // the model's config, so evaluation can rebuild it from the weights alone
  std::string meters_json; // the running epoch's metric sums so far (a resumed epoch logs whole averages)
};

// Writes the checkpoint, points checkpoint_last at it (and checkpoint_best when is_best), and
// deletes all but the newest `keep` checkpoint folders (never the best). Returns its folder.
std::string write_checkpoint(const std::string& output_dir, const torch::nn::Module& model, const TrainingState& state,
                             bool is_best = false, int64_t keep = 2);

// The folder checkpoint_last names, if there is one.
std::optional<std::string> latest_checkpoint(const std::string& output_dir);

// Reads a checkpoint folder: the weights into `model` (strict) and the rest returned. Throws
// FileFormatError / StateDictError naming the file when it is incomplete or does not fit.
TrainingState read_checkpoint(const std::string& folder, torch::nn::Module& model);

// The default generators' states (CPU, and each CUDA device initialised) and restoring them.
StateDict capture_rng_states();
void restore_rng_states(const StateDict& states);

}  // namespace slipstream
