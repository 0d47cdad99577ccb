// Training checkpoints in a run's output folder. Each is a folder
// checkpoints/epoch_EEEE_step_SSSSSSS/ holding model.safetensors (the weights, readable by any
// safetensors tool and by load_weights) and training_state.safetensors (optimizer moments, loss
// scaler, RNG states, and as metadata the position and the run's config). A checkpoint is written
// into a temporary folder, fsync'ed, renamed into place, and only then named by the
// `checkpoint_last` link (replaced atomically), so a crash or kill while writing leaves the
// previous checkpoint the one a resume finds. Each checkpoint also holds checksums.json: the size
// and CRC-32 of both files as read back from the disk, which resume checks (verify_checkpoint), so
// a truncated, bit-flipped or half-copied checkpoint is skipped for the one before it.
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <optional>
#include <map>
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
  std::map<std::string, std::string> weights_metadata;  // more to record with the weights (the run's BPE merges)
  std::string meters_json; // the running epoch's metric sums so far (a resumed epoch logs whole averages)
  // Each rank's loader position beyond (epoch, batch) (a streaming loader's stream position):
  // {"world_size": W, "ranks": [...]}; "" when the loader needs none.
  std::string data_positions_json;
};

// Writes the checkpoint, points checkpoint_last at it (and checkpoint_best when is_best), and
// deletes all but the newest `keep` checkpoint folders (never the best, never the new one, which
// was read back and checksummed). Returns its folder. When there is no room for it, or a write
// fails (ENOSPC, EIO), throws TrainingError naming the newest valid checkpoint, which stays so:
// nothing of the failed one is left behind.
std::string write_checkpoint(const std::string& output_dir, const torch::nn::Module& model, const TrainingState& state,
                             bool is_best = false, int64_t keep = 2);

// The folder checkpoint_last names, if there is one.
std::optional<std::string> latest_checkpoint(const std::string& output_dir);

// What is wrong with a checkpoint folder: a file missing, or of another size or CRC-32 than
// checksums.json records ("" when it is sound; a folder from before checksums needs its two files).
std::string verify_checkpoint(const std::string& folder);

// The newest checkpoint of output_dir that verify_checkpoint passes: checkpoint_last's target
// first, then the checkpoints/ folders newest first; `skipped` gets a line for each that fails.
std::optional<std::string> latest_valid_checkpoint(const std::string& output_dir,
                                                   const std::function<void(const std::string&)>& skipped = {});

// Reads a checkpoint folder: the weights into `model` (strict) and the rest returned. Throws
// FileFormatError / StateDictError naming the file when it is incomplete or does not fit.
TrainingState read_checkpoint(const std::string& folder, torch::nn::Module& model);

// The default generators' states (CPU, and each CUDA device initialised) and restoring them.
StateDict capture_rng_states();
void restore_rng_states(const StateDict& states);

}  // namespace slipstream
