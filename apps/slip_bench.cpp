// slip_bench: the training step's speed, FLOP/s, MFU and memory for a model at a batch and
// precision, as JSON on standard output (train/step_benchmark.h). bench/step/run.sh runs it beside
// open_clip's own step.
//   slip_bench --model CLIP_VITB16 --batch 256 --precision bf16 [--steps 20] [--peak-tflops 989.4]
#include <iostream>

#include "app_main.h"
#include "slipstream/train/step_benchmark.h"

int main(int argc, char** argv) {
  slipstream::StepBenchmarkOptions o;
  CLI::App app{"slip_bench: a pre-training step's speed, FLOP/s, MFU and memory (JSON)"};
  slipstream::configure_app(app);
  app.add_option("--model", o.model, "Registered model name or a model JSON")->capture_default_str();
  app.add_option("--batch", o.batch, "Samples per step")->capture_default_str();
  app.add_option("--precision", o.precision, "auto, bf16, fp16 or fp32")->capture_default_str();
  app.add_option("--device", o.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--steps", o.steps, "Measured steps")->capture_default_str();
  app.add_option("--warmup", o.warmup, "Steps run before measuring")->capture_default_str();
  app.add_option("--peak-tflops", o.peak_tflops,
                 "The device's peak for MFU (0: 989.4, H100/H200 dense bf16, on a GPU; none on the CPU)")
      ->capture_default_str();
  app.add_flag("--grad-checkpointing", o.grad_checkpointing, "Recompute activations in the backward pass");
  app.add_flag("--cudnn-benchmark", o.gpu.cudnn_benchmark, "cuDNN times its convolution algorithms on the first shapes");
  app.add_flag("--tf32", o.gpu.tf32, "fp32 matmuls and convolutions on TF32 tensor cores");
  app.add_flag("--channels-last", o.gpu.channels_last, "Convolution weights in NHWC memory");
  app.add_flag("--cuda-graphs", o.gpu.cuda_graphs, "Replay each step's forward and backward from a CUDA graph");
  app.add_option("--pin-memory", o.gpu.pin_memory, "Inputs made in page-locked memory, copied without blocking")
      ->capture_default_str();
  app.add_option("--seed", o.seed)->capture_default_str();
  return slipstream::run_app("slip_bench", app, argc, argv, [&]() -> int {
    std::cout << slipstream::run_step_benchmark(o) << "\n";
    return 0;
  });
}
