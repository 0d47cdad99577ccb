#include "slipstream/core/build_info.h"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include <sstream>

#ifdef SLIPSTREAM_WITH_CUDA
#include <torch/csrc/cuda/nccl.h>
#endif

namespace slipstream {

BuildInfo build_info() {
  BuildInfo info;
  info.slipstream_version = SLIPSTREAM_VERSION;
  info.torch_version = SLIPSTREAM_TORCH_VERSION;
#ifdef SLIPSTREAM_WITH_CUDA
  info.compiled_with_cuda = true;
  const auto& hooks = at::detail::getCUDAHooks();
  info.cuda_runtime_version = hooks.versionCUDART();
  if (hooks.compiledWithCuDNN()) info.cudnn_version = hooks.versionCuDNN();
  const std::uint64_t nccl = torch::cuda::nccl::version();
  // LibTorch packs the version as major << 32 | minor << 16 | patch.
  info.nccl_version = std::to_string(nccl >> 32) + "." + std::to_string((nccl >> 16) & 0xFFFF) + "." +
                      std::to_string(nccl & 0xFFFF);
  info.cuda_devices = at::hasCUDA() ? hooks.getNumGPUs() : 0;
#endif
  return info;
}

std::string describe(const BuildInfo& info) {
  std::ostringstream out;
  out << "slipstream:   " << info.slipstream_version << "\n"
      << "LibTorch:     " << info.torch_version << "\n"
      << "CUDA paths:   " << (info.compiled_with_cuda ? "compiled" : "not compiled") << "\n";
  if (info.compiled_with_cuda) {
    out << "CUDA runtime: " << info.cuda_runtime_version / 1000 << "." << info.cuda_runtime_version % 1000 / 10 << "\n"
        << "cuDNN:        " << info.cudnn_version << "\n"
        << "NCCL:         " << info.nccl_version << "\n"
        << "GPUs visible: " << info.cuda_devices << "\n";
  }
  return out.str();
}

}  // namespace slipstream
