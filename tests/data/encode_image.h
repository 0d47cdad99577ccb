// Test helper: encodes an RGB uint8 [H, W, 3] image with OpenCV (".jpg", ".png", ".webp", ".bmp").
#pragma once
#include <string>
#include <vector>

#include "slipstream/data/image/image.h"

namespace slipstream::testing {

std::vector<uint8_t> encode_image(const Image& image, const std::string& extension, int jpeg_quality = 95);

}  // namespace slipstream::testing
