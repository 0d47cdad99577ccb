#include "slipstream/train/run_flags.h"

#include <CLI/CLI.hpp>

namespace slipstream {

void add_run_flags(CLI::App& app, RunOptions& o) {
  const std::string group = "Run";
  app.add_option("--device", o.device, "auto, cpu, cuda or cuda:N (auto and cuda: the GPU of LOCAL_RANK)")
      ->capture_default_str()->group(group);
  app.add_option("--seed", o.seed, "Seed of the initialisation, the data order and the augmentations")
      ->capture_default_str()->group(group);
  app.add_option("-j,--workers", o.workers, "Loader threads per process (0: one per core)")->capture_default_str()->group(group);
  app.add_option("--precision", o.precision, "auto (bf16 on GPUs, fp32 on CPUs), bf16, fp16 (with loss scaling) or fp32")
      ->capture_default_str()->group(group);
  app.add_option("--output-dir", o.output_dir,
                 "Checkpoints, config.json, log.txt, steps.jsonl, out.log and tensorboard/; a rerun resumes from "
                 "its last checkpoint")
      ->capture_default_str()->group(group);
  app.add_option("-p,--print-freq", o.print_freq, "Optimizer steps between progress lines, where the steps' values are read from the device (0: no "
                 "lines, reads every 100)")
      ->capture_default_str()->group(group);
  app.add_option("--save-every-steps", o.save_every_steps, "Also checkpoint every N optimizer steps (0: epoch ends only)")
      ->capture_default_str()->group(group);
  app.add_option("--keep-checkpoints", o.keep_checkpoints, "Newest checkpoints kept (the best one besides)")
      ->capture_default_str()->group(group);
  app.add_option("--dist-timeout", o.dist_timeout, "Seconds a collective waits for the other ranks before the run fails")
      ->capture_default_str()->group(group);
  app.add_option("--hang-timeout", o.hang_timeout,
                 "Seconds without progress (a stuck collective or read) before a process ends itself, naming its "
                 "rank and phase, so the launcher restarts the run (0: no watchdog)")
      ->capture_default_str()->group(group);
  app.add_option("--skip-nonfinite", o.skip_nonfinite,
                 "Optimizer steps with a non-finite loss skipped (no update, logged) before the run stops")
      ->capture_default_str()->group(group);
  app.add_flag("--log-all-ranks", o.log_all_ranks, "Every rank prints its lines (default: rank 0 only)")->group(group);
  const std::string gpu = "GPU (no effect on a CPU)";
  app.add_flag("--cudnn-benchmark", o.gpu.cudnn_benchmark, "cuDNN times its convolution algorithms on the first shapes")
      ->group(gpu);
  app.add_flag("--tf32", o.gpu.tf32, "fp32 matmuls and convolutions on TF32 tensor cores")->group(gpu);
  app.add_flag("--channels-last", o.gpu.channels_last,
               "Convolution weights in NHWC memory (the modified ResNet's activations are NHWC already)")->group(gpu);
  app.add_flag("--cuda-graphs", o.gpu.cuda_graphs,
               "Replay each step's forward and backward from a CUDA graph (one process, the same shapes every step)")
      ->group(gpu);
  app.add_option("--pin-memory", o.gpu.pin_memory, "Page-locked batches, copied to the GPU without blocking")
      ->capture_default_str()->group(gpu);
}

}  // namespace slipstream
