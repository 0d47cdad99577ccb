// SLIP's pre-training loop (main.py's main and train), readable top to bottom: build the model,
// loss, loader, AdamW and schedule from a PretrainConfig; then per micro-batch forward under
// autocast, loss / update_freq, backward, and every update_freq micro-batches the scheduled lr, an
// optimizer step (fp16: through the loss scaler) and the logit-scale clamp; zero-shot validation
// at epoch ends. The run around it (resume, saves, the agreed stop, logs) is a TrainingRun's.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "slipstream/train/pretrain_config.h"
#include "slipstream/train/run_hooks.h"

namespace slipstream {

// One optimizer step, as the loop saw it.
struct StepReport {
  int64_t epoch = 0;
  int64_t batch = 0;           // the loader step that completed the update (last micro-batch)
  int64_t global_step = 0;     // optimizer steps since the start of training, this one included
  double lr = 0.0;
  std::map<std::string, double> metrics;  // loss, clip_loss, clip_acc, ssl_loss, ssl_acc (as the family logs)
  double logit_scale = 0.0;    // exp of the clamped log-scale (0 without a text tower)
  double grad_norm = 0.0;      // L2 norm of all gradients (averaged over ranks, unscaled) before the step
  bool skipped = false;        // fp16: the step was skipped for a non-finite gradient
};

struct PretrainHooks : RunHooks {
  std::function<void(const StepReport&)> on_step;  // after every optimizer step
};

struct PretrainResult {
  bool completed = false;          // all epochs ran (false: stopped by a signal or stop_after_steps)
  int64_t epoch = 0, batch = 0;    // where a resume continues
  int64_t global_step = 0;
  std::string last_checkpoint;     // folder of the newest checkpoint ("" if none was written)
};

// Runs (or resumes) the training the config describes. Throws ConfigError for bad settings before
// any work, and TrainingError for a non-finite loss (naming the step and each loss term), after
// which the last checkpoint written is still the last good one.
PretrainResult pretrain(const PretrainConfig& config, const PretrainHooks& hooks = {});

}  // namespace slipstream
