#include "slipstream/train/run_options.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "slipstream/core/require.h"

namespace slipstream {

void validate(const RunOptions& o) {
  require(o.device == "auto" || o.device == "cpu" || o.device.rfind("cuda", 0) == 0,
          "--device " + o.device + ": expected auto, cpu, cuda or cuda:N");
  require(o.precision == "auto" || o.precision == "bf16" || o.precision == "fp16" || o.precision == "fp32",
          "--precision " + o.precision + ": expected auto, bf16, fp16 or fp32");
  require(o.seed >= 0, "--seed " + std::to_string(o.seed) + ": expected 0 or more");
  require(o.workers >= 0, "--workers " + std::to_string(o.workers) + ": expected 0 (one per core) or more");
  require(o.print_freq >= 0, "--print-freq " + std::to_string(o.print_freq) + ": expected 0 (no progress lines) or more");
  require(o.save_every_steps >= 0, "--save-every-steps " + std::to_string(o.save_every_steps) + ": expected 0 or more");
  require(o.keep_checkpoints >= 1, "--keep-checkpoints " + std::to_string(o.keep_checkpoints) + ": expected at least 1");
  require(std::isfinite(o.hang_timeout) && o.hang_timeout >= 0,
          "--hang-timeout " + std::to_string(o.hang_timeout) + ": expected seconds, or 0 for no watchdog");
  require(o.skip_nonfinite >= 0, "--skip-nonfinite " + std::to_string(o.skip_nonfinite) + ": expected 0 or more");
  require(o.dist_timeout >= 1, "--dist-timeout " + std::to_string(o.dist_timeout) + ": expected at least 1 second");
}

nlohmann::ordered_json to_json(const RunOptions& o) {
  return {{"device", o.device},
          {"seed", o.seed},
          {"workers", o.workers},
          {"precision", o.precision},
          {"output-dir", o.output_dir},
          {"print-freq", o.print_freq},
          {"save-every-steps", o.save_every_steps},
          {"keep-checkpoints", o.keep_checkpoints},
          {"dist-timeout", o.dist_timeout},
          {"log-all-ranks", o.log_all_ranks},
          {"hang-timeout", o.hang_timeout},
          {"skip-nonfinite", o.skip_nonfinite},
          {"cudnn-benchmark", o.gpu.cudnn_benchmark},
          {"tf32", o.gpu.tf32},
          {"channels-last", o.gpu.channels_last},
          {"cuda-graphs", o.gpu.cuda_graphs},
          {"pin-memory", o.gpu.pin_memory}};
}

}  // namespace slipstream
