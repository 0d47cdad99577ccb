// The c10d backends, each built in its own translation unit so that only that file needs the
// backend's headers (Gloo's, NCCL's). Internal to src/dist.
#pragma once
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>

namespace slipstream {

// Gloo over TCP, for CPU tensors. Throws ConfigError when slipstream was built without Gloo's headers.
c10::intrusive_ptr<c10d::Backend> make_gloo_backend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                    std::chrono::milliseconds timeout);
// NCCL, for CUDA tensors. Throws ConfigError when slipstream was built without CUDA.
c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                    std::chrono::milliseconds timeout);

}  // namespace slipstream
