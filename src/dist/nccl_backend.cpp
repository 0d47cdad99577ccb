// NCCL's c10d backend (LibTorch's ProcessGroupNCCL, with the NCCL LibTorch carries).
#include "src/dist/backend_factories.h"

#include <cstdlib>

#include "slipstream/core/error.h"

#if SLIPSTREAM_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace slipstream {

c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                    std::chrono::milliseconds timeout) {
#if SLIPSTREAM_WITH_NCCL
  // NCCL's watchdog with asynchronous error handling: a collective that fails or outlasts the
  // timeout (--dist-timeout) aborts the communicator and ends the process with an error, which
  // slip_run's --max-restarts (or torchrun's) then restarts. The user's own setting wins.
  ::setenv("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1", /*overwrite=*/0);
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
#else
  (void)store, (void)rank, (void)size, (void)timeout;
  throw ConfigError("distributed GPU training needs NCCL: this slipstream was built without CUDA");
#endif
}

}  // namespace slipstream
