// Gloo's c10d backend. Gloo's headers come from the system (Debian's libgloo-dev); LibTorch
// carries Gloo's implementation, and this file only needs the declarations.
#include "src/dist/backend_factories.h"

#include "slipstream/core/error.h"

#if SLIPSTREAM_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif

namespace slipstream {

c10::intrusive_ptr<c10d::Backend> make_gloo_backend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                    std::chrono::milliseconds timeout) {
#if SLIPSTREAM_WITH_GLOO
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size,
                                                     c10d::ProcessGroupGloo::Options::create_default(timeout));
#else
  (void)store, (void)rank, (void)size, (void)timeout;
  throw ConfigError("distributed CPU training needs Gloo: rebuild slipstream with Gloo's headers (libgloo-dev)");
#endif
}

}  // namespace slipstream
