// The run flags every training app shares (slip_pretrain, finetune, linear_probe): where and how
// the run goes, not what it learns. Each app's config embeds them (PretrainConfig, FinetuneConfig
// and LinearProbeConfig derive from RunOptions) and keeps its own defaults; add_run_flags
// (run_flags.h) declares them once, with one help text each.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

#include "slipstream/train/gpu_settings.h"

namespace slipstream {

struct RunOptions {
  std::string device = "auto";     // auto | cpu | cuda | cuda:N (auto and cuda: the GPU of LOCAL_RANK)
  int64_t seed = 0;
  int64_t workers = 10;            // loader threads per process (0: one per core)
  std::string precision = "auto";  // auto (bf16 on GPUs, fp32 on CPUs) | bf16 | fp16 | fp32
  std::string output_dir = "./";   // checkpoints and logs ("": none, where the app allows it)
  int64_t print_freq = 10;         // optimizer steps between progress lines and read points (0: no lines, reads every 100)
  int64_t save_every_steps = 0;    // also checkpoint every N optimizer steps (0: at epoch ends only)
  int64_t keep_checkpoints = 2;    // newest checkpoint folders kept (the best one is kept besides)
  int64_t dist_timeout = 600;      // seconds a collective may wait for the other ranks before failing
  bool log_all_ranks = false;      // every rank prints (default: rank 0 only)
  double hang_timeout = 1800;      // seconds without progress before a process ends itself (0: never)
  int64_t skip_nonfinite = 0;      // optimizer steps with a non-finite loss skipped before the run stops
  GpuSettings gpu;                 // --cudnn-benchmark --tf32 --channels-last --cuda-graphs --pin-memory
};

// Throws ConfigError with one line naming the flag and what was expected.
void validate(const RunOptions& options);

// The options as JSON members named after their flags ("output-dir", ...), in declaration order.
nlohmann::ordered_json to_json(const RunOptions& options);

}  // namespace slipstream
