// What this build of slipstream was compiled with and what the machine offers at run time.
#pragma once
#include <string>

namespace slipstream {

struct BuildInfo {
  std::string slipstream_version;
  std::string torch_version;       // LibTorch the library was built against
  bool compiled_with_cuda = false;  // CUDA code paths present (LibTorch CUDA build + toolkit)
  long cuda_runtime_version = 0;    // e.g. 13000, 0 without CUDA
  long cudnn_version = 0;           // e.g. 91900, 0 without cuDNN
  std::string nccl_version;         // LibTorch's NCCL, "" without CUDA
  int cuda_devices = 0;             // GPUs visible now
};

BuildInfo build_info();
std::string describe(const BuildInfo& info);  // a few "key: value" lines

}  // namespace slipstream
