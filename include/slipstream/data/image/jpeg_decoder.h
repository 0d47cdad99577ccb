// JPEG decoding through libjpeg(-turbo) straight into the pipeline's RGB [H, W, 3]: the decoder's
// default IDCT and upsampling (as PIL and OpenCV use it), an optional 1/2, 1/4 or 1/8 scale, and
// the EXIF orientation applied as OpenCV applies it. Only grey and YCbCr/RGB JPEGs: CMYK and YCCK
// are left to the caller.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "slipstream/data/image/image.h"

namespace slipstream {

// nullopt when the JPEG's colour space is not grey, YCbCr or RGB; SampleError naming `source` when
// libjpeg cannot decode it.
std::optional<Image> decode_jpeg_rgb(const uint8_t* data, size_t size, const std::string& source, int reduction = 1);

// `image` turned upright for an EXIF orientation (2-8; 1 returns it unchanged).
Image apply_exif_orientation(const Image& image, int orientation);

}  // namespace slipstream
