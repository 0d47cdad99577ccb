// libFuzzer target: arbitrary bytes through the libjpeg decoder (full size and 1/4), EXIF
// orientation included: an RGB image, nullopt for CMYK, or SampleError; never a crash.
#include "slipstream/core/error.h"
#include "slipstream/data/image/image_decode.h"
#include "slipstream/data/image/jpeg_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Headers claiming more than 4 megapixels decode (mostly filler) too slowly for a bounded run;
  // the decoder's own limit on larger images is unit-tested.
  if (auto dimensions = slipstream::jpeg_size(data, size)) {
    if (dimensions->first * dimensions->second > (4 << 20)) return 0;
  }
  for (int reduction : {1, 4}) {
    try {
      if (auto image = slipstream::decode_jpeg_rgb(data, size, "fuzz", reduction)) {
        if (image->size(2) != 3) __builtin_trap();
      }
    } catch (const slipstream::SampleError&) {
    }
  }
  return 0;
}
