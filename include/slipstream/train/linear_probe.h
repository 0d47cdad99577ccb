// Linear classification of a pre-trained image tower, two ways:
//  - SLIP's main_linear.py (MoCo v3's main_lincls.py): the tower frozen in evaluation mode, a linear
//    head N(0, 0.01) with zero bias trained by SGD (momentum 0.9, weight decay 0 by default) at
//    lr x batch / 256 on a per-epoch half cosine, on RandomResizedCrop + flip views; validation on
//    Resize 256 + CenterCrop 224 after every epoch. Multi-process through the distributed layer
//    (each rank its part of the data, the head's gradients averaged); checkpoints, exact resume
//    (mid-epoch too), the agreed stop on SIGTERM/SIGUSR1 and the logs are the TrainingRun's.
//  - The CLIP paper's fast protocol: the tower's features of both splits computed once (cached on
//    disk), multinomial logistic regression with L-BFGS, its regularisation strength chosen on a
//    held-out part of the training split, then refit on the whole training split. One process.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "slipstream/eval/logistic_regression.h"
#include "slipstream/models/model_config.h"
#include "slipstream/train/run_options.h"

namespace slipstream {

struct LinearProbeConfig : RunOptions {
  LinearProbeConfig() {
    workers = 0;       // one loader thread per core
    output_dir = "";   // no checkpoints unless asked
  }
  std::string pretrained;  // checkpoint folder or link, or .safetensors weights (a converted SLIP release)
  std::string model;       // model name or JSON, when the weights do not record theirs
  PreprocessingOverrides preprocessing;  // --image-mean etc. over the recorded preprocessing
  std::string catalog = "dataset_catalog.json";
  std::string dataset = "imagenet";  // the catalog entry; its train split trains, its test split validates
  int64_t num_classes = 0;           // 0: the dataset's class count
  // MoCo v3's recipe
  int64_t epochs = 90;
  int64_t batch_size = 256;  // per process
  double lr = 0.1;           // at a total batch of 256: the lr used is lr x batch_size x world_size / 256
  double momentum = 0.9;
  double wd = 0.0;
  // The CLIP paper's protocol instead
  bool fast = false;
  double val_fraction = 0.2;     // share of the training split held out to choose C
  std::string cache_dir;         // cached features ("": none)
  int64_t max_iterations = 1000; // L-BFGS iterations per fit
  // The run flags are RunOptions': precision is the frozen tower's forward; output_dir "" keeps
  // no checkpoints, else the SGD loop saves there (each epoch, every --save-every-steps, on
  // SIGTERM/SIGUSR1) and a rerun resumes from the last.
};

// Throws ConfigError naming the flag before any work.
void validate(const LinearProbeConfig& config);

struct LinearProbeEpoch {
  int64_t epoch = 0;
  double lr = 0.0, loss = 0.0, acc1 = 0.0, acc5 = 0.0;
};

struct LinearProbeResult {
  bool completed = false;    // false: stopped (SIGTERM/SIGUSR1) before the last epoch; a rerun resumes
  std::string mode;          // "sgd" | "logistic_regression"
  std::string description;   // the model and weights read
  int64_t classes = 0, train_samples = 0, test_samples = 0;
  double acc1 = 0.0, acc5 = 0.0;  // after the last epoch (fast: with the chosen C), percent
  double best_acc1 = 0.0;         // best after any epoch, resumed epochs included (fast: acc1)
  int64_t best_epoch = -1;
  std::vector<LinearProbeEpoch> history;  // the epochs this call ran
  RegularisationSweep sweep;              // fast mode
  bool features_from_cache = false;       // fast mode: both splits' features were read from the cache
};

// Runs the probe; rank 0's progress lines go to `print` (default: standard output).
LinearProbeResult run_linear_probe(const LinearProbeConfig& config,
                                   const std::function<void(const std::string&)>& print = {});

// The settings as config.json records them (keys: the flag names).
std::string to_json(const LinearProbeConfig& config);

// The result as the JSON --output writes: settings, final and best accuracy, per-epoch history.
std::string to_json(const LinearProbeConfig& config, const LinearProbeResult& result);

}  // namespace slipstream
