// End-to-end finetuning of a pre-trained image tower for classification, BEiT's recipe as SLIP
// uses it (BEiT's run_class_finetuning.py with --use_cls --model_prefix module.visual.): AdamW
// (betas 0.9/0.999, weight decay 0.05) with layer-wise lr decay, drop path, mixup 0.8 / CutMix 1.0
// with label smoothing 0.1 and the soft-target loss, RandAugment rand-m9-mstd0.5-inc1 and random
// erasing 0.25 on RandomResizedCrop(bicubic) + flip views, a per-step linear warmup then cosine lr,
// top-1/top-5 on the test split (Resize 256 + CenterCrop 224) after every epoch. Multi-process
// through the distributed layer (gradients averaged during backward); checkpoints, resume, the
// agreed stop and the logs (BEiT-style log.txt) are the TrainingRun's.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "slipstream/train/run_hooks.h"
#include "slipstream/models/model_config.h"
#include "slipstream/train/run_options.h"

namespace slipstream {

struct FinetuneConfig : RunOptions {
  // Model (BEiT's flags: --finetune weights, --model_prefix)
  std::string finetune;      // pre-trained weights: checkpoint folder/link or .safetensors ("": from scratch)
  std::string model_prefix;  // the image tower's key prefix in them ("": visual. or module.visual.)
  std::string model;         // model name or JSON ("": the one the weights record)
  double drop_path = 0.1;
  bool grad_checkpointing = false;       // recompute each block's activations in the backward pass
  PreprocessingOverrides preprocessing;  // --image-mean etc. over the recorded preprocessing
  // Data
  std::string catalog = "dataset_catalog.json";
  std::string dataset = "imagenet";  // catalog entry: train split trains, test split evaluates
  int64_t nb_classes = 0;            // 0: the dataset's class count
  std::string aa = "rand-m9-mstd0.5-inc1";  // timm's RandAugment spec ("" or "none": off)
  double reprob = 0.25;                     // random erasing probability
  std::string remode = "pixel";             // random erasing fill: pixel | rand | const
  double mixup = 0.8, cutmix = 1.0, mixup_prob = 1.0, mixup_switch_prob = 0.5;
  double smoothing = 0.1;
  // Optimisation (the defaults: SLIP's ViT-B/16 recipe at a total batch of 1024)
  int64_t epochs = 100;
  int64_t warmup_epochs = 20;
  int64_t batch_size = 128;  // per process
  int64_t update_freq = 1;   // micro-batches per optimizer step
  double lr = 4e-3;          // the peak lr (BEiT's --lr, not rescaled by the batch)
  double min_lr = 1e-6;
  double weight_decay = 0.05;
  double layer_decay = 0.65;
  std::array<double, 2> opt_betas{0.9, 0.999};
  double opt_eps = 1e-8;
  // Run (the shared run flags are RunOptions')
  bool eval = false;  // only evaluate the weights (after resume, if any) on the test split
};

// Throws ConfigError with one line naming the flag, before any work.
void validate(const FinetuneConfig& config);
// Pretty-printed JSON, keys the flag names without dashes (as config.json in the output folder).
std::string to_json(const FinetuneConfig& config);

struct FinetuneEpoch {
  int64_t epoch = 0;
  double lr = 0.0, train_loss = 0.0, test_loss = 0.0, acc1 = 0.0, acc5 = 0.0;
};

struct FinetuneHooks : RunHooks {
  // Every optimizer step (each then read on the host): (global step from 0, lr of the top layer,
  // the step's loss: the mean of its micro-batches', averaged over the ranks; NaN when skipped).
  std::function<void(int64_t, double, double)> on_step;
};

struct FinetuneResult {
  bool completed = false;              // every epoch ran (false: stopped by a signal)
  std::vector<FinetuneEpoch> history;  // the epochs this call finished
  double acc1 = 0.0, acc5 = 0.0;       // the last evaluation
  double best_acc1 = 0.0;              // over all evaluations, earlier runs of the folder included
  std::string last_checkpoint;
};

FinetuneResult finetune(const FinetuneConfig& config, const FinetuneHooks& hooks = {});

}  // namespace slipstream
