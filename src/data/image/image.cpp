#include "slipstream/data/image/image.h"

#include <ATen/ATen.h>

#include "slipstream/core/error.h"

namespace slipstream {

void check_image(const Image& image, const char* where) {
  if (!image.defined() || image.dim() != 3 || image.size(2) != 3 || image.scalar_type() != at::kByte ||
      !image.is_contiguous() || !image.device().is_cpu() || image.size(0) == 0 || image.size(1) == 0) {
    throw ShapeError(std::string(where) + ": expected a contiguous CPU uint8 image [H, W, 3], got " +
                     (image.defined() ? std::string(c10::toString(image.scalar_type())) + " " + c10::str(image.sizes())
                                      : std::string("an undefined tensor")));
  }
}

at::Tensor to_normalized_chw(const Image& image, const std::array<float, 3>& mean, const std::array<float, 3>& std) {
  check_image(image, "to_normalized_chw");
  const int64_t height = image.size(0), width = image.size(1), pixels = height * width;
  at::Tensor out = at::empty({3, height, width}, at::kFloat);  // [3, H, W]
  const uint8_t* in = image.data_ptr<uint8_t>();
  float* planes = out.data_ptr<float>();
  for (int c = 0; c < 3; ++c) {
    // torchvision: x / 255, then (x - mean) / std, in float32: the same expression for each of the
    // 256 values, looked up per pixel.
    float table[256];
    for (int value = 0; value < 256; ++value) table[value] = (static_cast<float>(value) / 255.0f - mean[c]) / std[c];
    float* plane = planes + c * pixels;
    for (int64_t i = 0; i < pixels; ++i) plane[i] = table[in[i * 3 + c]];
  }
  return out;
}

}  // namespace slipstream
