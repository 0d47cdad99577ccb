// slip_bench's measurement: N pre-training steps of a model (registered name or JSON config) at a
// given batch and precision on synthetic inputs, one process, the learning step of pretrain()
// (forward under autocast, the family's loss, backward with loss scaling for fp16, AdamW with SLIP's
// parameter groups, the logit-scale clamp) split into its phases and timed: wall time on the CPU,
// CUDA events on a GPU (read once the step is done, so nothing synchronises inside it). Reports
// throughput, achieved FLOP/s from the counted FLOPs (models/flop_count.h) and the model-FLOPs
// utilisation against a stated peak, peak memory (the CUDA allocator's on a GPU, the process's
// peak resident memory on the CPU) and the device, library and build versions.
#pragma once
#include <cstdint>
#include <string>

#include "slipstream/train/gpu_settings.h"

namespace slipstream {

struct StepBenchmarkOptions {
  std::string model = "CLIP_VITB16";  // registered name or model JSON
  int64_t batch = 64;
  std::string precision = "auto";     // auto (bf16 on GPUs, fp32 on CPUs), bf16, fp16, fp32
  std::string device = "auto";
  int64_t steps = 10;                 // measured steps
  int64_t warmup = 3;                 // steps run first and not measured
  double peak_tflops = 0.0;           // 0: H100/H200 dense bf16 (989.4) on a GPU, none on the CPU
  bool grad_checkpointing = false;
  GpuSettings gpu;                    // --cudnn-benchmark --tf32 --channels-last --cuda-graphs --pin-memory
  uint64_t seed = 0;
};

// The result as JSON (keys: model, batch, precision, device, steps, samples_per_second,
// phases_ms {data, forward, backward, grad_sync, optimizer, step}, flops_per_step,
// achieved_tflops, peak_tflops, mfu, peak_memory_mib, memory_source, gpu_settings, versions). With
// --cuda-graphs on a GPU the replayed graph's time is the forward's and the backward's is 0.
std::string run_step_benchmark(const StepBenchmarkOptions& options);

}  // namespace slipstream
