// libFuzzer target: slipstream's JPEG frame-header parser on arbitrary bytes stays in bounds and
// reports sizes only from a start-of-frame segment.
#include "slipstream/data/image/image_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (auto dimensions = slipstream::jpeg_size(data, size)) {
    slipstream::DecodeOptions options;
    options.target_size = 224;
    (void)slipstream::jpeg_reduction(dimensions->second, dimensions->first, options);
  }
  return 0;
}
