#include "pixel_loop.h"

#include <cstdlib>

namespace slipstream {

bool avx2_pixel_loops() {
#if SLIPSTREAM_X86_DISPATCH
  static const bool enabled = __builtin_cpu_supports("avx2") && std::getenv("SLIPSTREAM_BASELINE_PIXEL_LOOPS") == nullptr;
  return enabled;
#else
  return false;
#endif
}

}  // namespace slipstream
