// The switches a GPU run is tuned with, each a run flag (docs/training.md#gpu-switches): cuDNN's
// autotuner, TF32 tensor cores for fp32 matmuls and convolutions, channels-last (NHWC) weights,
// CUDA graphs for the forward and backward of a step whose shapes never change, and page-locked
// batches copied to the device asynchronously. On a CPU they change nothing.
#pragma once
#include <c10/core/Device.h>

#include <string>
#include <vector>

namespace torch::nn {
class Module;
}

namespace slipstream {

struct GpuSettings {
  bool cudnn_benchmark = false;  // --cudnn-benchmark: cuDNN times its algorithms on the first shapes
  bool tf32 = false;             // --tf32: fp32 matmuls and convolutions on TF32 tensor cores
  bool channels_last = false;    // --channels-last: 4-D weights (the ResNet's, the patch embedding) NHWC
  bool cuda_graphs = false;      // --cuda-graphs: the step's forward and backward replayed as a CUDA graph
  bool pin_memory = true;        // --pin-memory: page-locked batches, copied with non_blocking
};

// Sets the process-wide switches for a run on `device` (cuDNN benchmark mode, TF32) and returns a
// line for the log saying what is on; on a CPU nothing is set, and the line says so when a switch
// was asked for ("" otherwise).
std::string apply_gpu_settings(const GpuSettings& settings, const at::Device& device);

// Every 4-D parameter (convolution weights) in channels-last memory; the values are unchanged.
void to_channels_last(torch::nn::Module& module);

}  // namespace slipstream
