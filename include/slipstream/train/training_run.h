// The run around a learning step, shared by pre-training, finetuning and the linear probe's SGD
// loop, so that each loop keeps only its step, its epoch order and its evaluation:
//   - where it runs: ranks from torchrun/slip_run/Slurm variables, the device, the process group;
//   - what a checkpoint holds and how a run resumes (one rule: the output folder's last
//     checkpoint, else the fallback the app names (slip_pretrain's --resume), else nothing);
//   - no host synchronisation inside a step: each step's values stay on the device until a read
//     point (a progress line, the epoch's end, a save, a stop), where one all-reduce carries every
//     unread step's metrics, the counters and the stop every rank agrees on (SIGTERM/SIGUSR1, a
//     hook, or a step count), and one copy brings them to the host;
//   - saves (atomic, keep-N, best), mid-epoch when due or stopping;
//   - the lead rank's lines (a progress bar on a terminal) with a copy in out.log, log.txt,
//     steps.jsonl and TensorBoard scalars.
// A loop: construct, track(), resume(), begin(); per optimizer step end_step(); per epoch end_epoch().
#pragma once
#include <c10/core/Device.h>
#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "slipstream/core/state_dict.h"
#include "slipstream/data/batch_loader.h"
#include "slipstream/data/loader.h"
#include "slipstream/dist/environment.h"
#include "slipstream/train/hang_watchdog.h"
#include "slipstream/train/run_hooks.h"
#include "slipstream/train/run_meters.h"
#include "slipstream/train/run_options.h"

namespace torch::nn {
class Module;
}

namespace slipstream {

class ProcessGroup;
class TensorBoardWriter;

// Where a run is: the epoch, and the loader steps done in it (0: the epoch's start).
struct RunPosition {
  int64_t epoch = 0;
  int64_t batch = 0;
};

// A part of the training state besides the weights: how to read it for a checkpoint and restore it.
struct TrackedState {
  std::function<StateDict()> save;
  std::function<void(const StateDict&)> load;
};

// What a checkpoint holds besides the model's weights (each part optional).
struct TrackedParts {
  TrackedState optimizer = {};
  TrackedState scaler = {};
  TrackedState extra = {};  // named state of the objective, e.g. DeCLIP's nearest-neighbour queue
  BatchLoader* loader = nullptr;  // its position() is recorded for every rank (streaming)
};

// One optimizer step, as the loop hands it to end_step. Its tensors are 0-dim and stay where the
// step made them (on the device) until a read point reads them.
struct StepLog {
  RunPosition after;          // the position after the step
  int64_t global_step = 0;    // optimizer steps since the start of training, this one included
  int64_t step_in_epoch = 0;  // this step's index within its epoch (0-based)
  double lr = 0.0;
  // This rank's, averaged over the ranks when read. A "loss" that is not finite when read stops
  // the run (TrainingError naming the step and each metric) before anything is saved.
  std::map<std::string, at::Tensor> metrics;
  std::map<std::string, double> counters;     // this rank's running totals; summed over the ranks when read
  std::map<std::string, at::Tensor> scalars;  // logged as given (logit_scale, loss_scale)
  std::string note;                           // appended to the progress line
};

// A step's values as a read point found them.
struct StepValues {
  RunPosition after;
  int64_t global_step = 0;
  double lr = 0.0;
  std::map<std::string, double> metrics;  // averaged over the ranks
  std::map<std::string, double> scalars;
};

struct StepVerdict {
  bool stopped = false;                    // the run saved mid-epoch and stopped: the loop returns now
  std::vector<StepValues> read;            // the steps read at this one, oldest first (none between read points)
  std::map<std::string, double> counters;  // at a read point, the latest totals summed over the ranks
};

class TrainingRun {
 public:
  // Validates the options, finds the ranks, picks the device, connects the process group (when
  // there are several ranks), creates the output folder and opens out.log there. `config_json` is
  // what config.json and every checkpoint record.
  TrainingRun(const RunOptions& options, std::string config_json, RunHooks hooks = {});
  ~TrainingRun();
  TrainingRun(const TrainingRun&) = delete;
  TrainingRun& operator=(const TrainingRun&) = delete;

  const RunOptions& options() const { return options_; }
  const DistributedEnvironment& environment() const { return environment_; }
  const at::Device& device() const { return device_; }
  const std::shared_ptr<ProcessGroup>& group() const { return group_; }  // null in one process
  int64_t world_size() const { return environment_.world_size; }
  bool lead() const { return environment_.rank == 0; }
  bool checkpoints_enabled() const { return !options_.output_dir.empty(); }

  // This rank's share of the data: the run's --workers and --seed, its rank and the world size.
  LoaderOptions loader_options(int64_t batch_size) const;

  // A line from the lead rank (every rank's with --log-all-ranks); the lead's also go to out.log.
  void log(const std::string& line);

  // Every rank takes the lead rank's parameters and buffers.
  void broadcast_from_lead(torch::nn::Module& module);

  // What checkpoints hold: `model`'s weights, the parts, and the model's config (for evaluation).
  void track(torch::nn::Module& model, TrackedParts parts = {}, std::string model_config_json = "");
  // A value every checkpoint records with the weights (slip_pretrain: "bpe", the merges it tokenized
  // with, so evaluation finds them without --bpe).
  void record_with_weights(const std::string& key, const std::string& value) { weights_metadata_[key] = value; }
  RunMeters& meters() { return meters_; }
  double best_acc1() const { return best_acc1_; }
  // Records an evaluation's top-1; true when it is the best so far (it then makes checkpoint_best).
  bool record_accuracy(double acc1);

  // Resumes by the one rule and returns where to continue (`start` when nothing is resumed). A
  // checkpoint folder restores everything tracked, the RNG states and the position (and each
  // rank's loader position when written with as many ranks; with another world size the loader
  // starts the epoch's pass afresh, which the log says); a weights file (the fallback only)
  // restores the weights. Throws ConfigError when the position does not
  // fit the loader steps per epoch and --update-freq it is resumed with.
  RunPosition resume(int64_t batches_per_epoch, int64_t update_freq, const std::string& fallback = "",
                     RunPosition start = {});

  // Starts the logs (config.json, steps.jsonl, tensorboard/) and the clock for the ETA.
  void begin(int64_t epochs, int64_t steps_per_epoch, int64_t batches_per_epoch);

  // The loader's next batch, its wait timed for the progress line; throws TrainingError when the
  // loader ends the epoch before `at`'s step.
  Batch next_batch(BatchLoader& loader, RunPosition at);

  // With --skip-nonfinite: whether the step must be skipped, reading `loss` on the host now (one
  // synchronisation per micro-batch, the price of deciding before the update): true when it (or,
  // on several ranks, another rank's) is not finite and skips are left; the loop then drops the
  // step's gradients and makes no update. Beyond them, throws TrainingError naming the position
  // and each term; the last checkpoint written stays the last good state. Without the flag,
  // false without reading: the read point checks the step's "loss" metric instead.
  bool skip_nonfinite_step(const at::Tensor& loss, const std::map<std::string, at::Tensor>& terms, RunPosition at);

  // Marks the phase the loop enters, for the hang watchdog (next_batch, end_step and save mark theirs).
  void enter(RunPhase phase);

  // After every optimizer step. At a read point (every --print-freq steps within the epoch, 100
  // when 0; the epoch's last step; a --save-every-steps save; a stop asked for in a one-process
  // run; every step with RunHooks::read_every_step) it reads every step not yet read: the
  // all-reduce, the finite-loss check, the meters, steps.jsonl and TensorBoard (a line each, in
  // order), the progress line when due, the agreed stop and the saves. A stop asked for on one of
  // several ranks takes effect at the next read point.
  StepVerdict end_step(StepLog step);
  // How many times end_step read the steps' values on the host (for the tests).
  int64_t host_reads() const { return host_reads_; }

  // At an epoch's end: the log.txt line, the meters reset, the epoch's checkpoint. True when the
  // run was asked to stop and more epochs were left: the loop returns.
  bool end_epoch(int64_t epoch, const nlohmann::ordered_json& log_line, bool is_best);

  // Writes a checkpoint at `at` (the lead rank; every rank waits for it). Returns its folder
  // ("" without an output folder).
  std::string save(RunPosition at, bool is_best);
  const std::string& last_checkpoint() const { return last_checkpoint_; }

  void add_scalar(const std::string& tag, double value, int64_t step);  // TensorBoard, the lead rank
  void flush_scalars();

 private:
  void progress(const std::string& line, double done);
  // Reads the unread steps (one all-reduce, one copy), checks their losses, logs them; returns
  // them and sets `counters` and `stop` to the values summed over the ranks.
  std::vector<StepValues> read_unread_steps(std::map<std::string, double>& counters, bool& stop);
  std::string gather_loader_positions();  // every rank's, for the lead's checkpoint
  void restore_loader_position(const std::string& positions_json);

  RunOptions options_;
  std::string config_json_;
  RunHooks hooks_;
  DistributedEnvironment environment_;
  at::Device device_ = at::kCPU;
  std::shared_ptr<ProcessGroup> group_;
  std::string gpu_settings_line_;  // what apply_gpu_settings set, logged by begin()

  torch::nn::Module* model_ = nullptr;
  TrackedParts parts_;
  std::string model_config_json_;
  std::map<std::string, std::string> weights_metadata_;
  RunMeters meters_;
  double best_acc1_ = -1.0;  // below any accuracy: the first evaluation makes a checkpoint_best
  std::string last_checkpoint_;
  RunPosition position_;
  int64_t skipped_steps_ = 0;
  std::vector<StepLog> unread_;  // steps ended since the last read point
  int64_t host_reads_ = 0;
  std::unique_ptr<HangWatchdog> watchdog_;

  std::ofstream out_log_, steps_log_;
  std::unique_ptr<TensorBoardWriter> tensorboard_;
  bool terminal_ = false, bar_shown_ = false;

  int64_t epochs_ = 0, steps_per_epoch_ = 0, batches_per_epoch_ = 0;
  int64_t steps_this_run_ = 0;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point started_, interval_start_;
  double data_seconds_ = 0.0;
  int64_t interval_samples_ = 0;
};

}  // namespace slipstream
