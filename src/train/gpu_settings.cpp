#include "slipstream/train/gpu_settings.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/module.h>

namespace slipstream {

std::string apply_gpu_settings(const GpuSettings& s, const at::Device& device) {
  std::vector<std::string> on;
  if (s.cudnn_benchmark) on.push_back("cuDNN benchmark");
  if (s.tf32) on.push_back("TF32");
  if (s.channels_last) on.push_back("channels-last weights");
  if (s.cuda_graphs) on.push_back("CUDA graphs");
  if (s.pin_memory) on.push_back("pinned batches");
  std::string list;
  for (const std::string& item : on) list += (list.empty() ? "" : ", ") + item;
  if (!device.is_cuda()) {
    const GpuSettings defaults;
    const bool asked = s.cudnn_benchmark || s.tf32 || s.channels_last || s.cuda_graphs || s.pin_memory != defaults.pin_memory;
    if (!asked) return "";
    return "=> GPU switches (" + (list.empty() ? std::string("none") : list) + "): not applied on " + device.str();
  }
  at::globalContext().setBenchmarkCuDNN(s.cudnn_benchmark);
  if (s.tf32) {  // otherwise PyTorch's defaults stand (TF32 for cuDNN convolutions, not for matmuls)
    at::globalContext().setAllowTF32CuBLAS(true);
    at::globalContext().setAllowTF32CuDNN(true);
  }
  return "=> GPU switches: " + (list.empty() ? std::string("none") : list);
}

void to_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (at::Tensor& parameter : module.parameters()) {
    if (parameter.dim() == 4) parameter.set_data(parameter.contiguous(at::MemoryFormat::ChannelsLast));
  }
}

}  // namespace slipstream
