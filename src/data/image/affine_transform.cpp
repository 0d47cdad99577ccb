// Pillow's Image.transform(AFFINE) and Image.rotate: libImaging/Geometry.c's ImagingGenericTransform
// with affine_transform and the bilinear_filter32RGB / bicubic_filter32RGB filters. This file is
// compiled with -ffp-contract=off (CMakeLists.txt): every double expression rounds as Pillow's does.
#include "slipstream/data/image/affine_transform.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

// Geometry.c's FLOOR and the XCLIP / YCLIP clamps.
inline int floor_int(double v) { return v < 0.0 ? static_cast<int>(std::floor(v)) : static_cast<int>(v); }
inline int clamp_index(int v, int size) { return v < 0 ? 0 : (v < size ? v : size - 1); }

// Geometry.c's BICUBIC macro; integer inputs are exact in double, so one template serves both passes.
inline double cubic(double v1, double v2, double v3, double v4, double d) {
  const double p1 = v2;
  const double p2 = -v1 + v3;
  const double p3 = 2 * (v1 - v2) + v3 - v4;
  const double p4 = -v1 + v2 - v3 + v4;
  return p1 + d * (p2 + d * (p3 + d * p4));
}

// bicubic_filter32RGB: false when (xin, yin) lies outside the image (the pixel keeps the fill).
bool bicubic_sample(const uint8_t* in, int width, int height, double xin, double yin, uint8_t* out) {
  if (xin < 0.0 || xin >= width || yin < 0.0 || yin >= height) return false;
  xin -= 0.5;
  yin -= 0.5;
  int x = floor_int(xin), y = floor_int(yin);
  const double dx = xin - x, dy = yin - y;
  --x;
  --y;
  const int x0 = clamp_index(x, width) * 3, x1 = clamp_index(x + 1, width) * 3;
  const int x2 = clamp_index(x + 2, width) * 3, x3 = clamp_index(x + 3, width) * 3;
  const int64_t stride = static_cast<int64_t>(width) * 3;
  for (int b = 0; b < 3; ++b) {
    auto row_value = [&](int row) {
      const uint8_t* r = in + row * stride + b;
      return cubic(r[x0], r[x1], r[x2], r[x3], dx);
    };
    const double v1 = row_value(clamp_index(y, height));
    const double v2 = (y + 1 >= 0 && y + 1 < height) ? row_value(y + 1) : v1;
    const double v3 = (y + 2 >= 0 && y + 2 < height) ? row_value(y + 2) : v2;
    const double v4 = (y + 3 >= 0 && y + 3 < height) ? row_value(y + 3) : v3;
    const double v = cubic(v1, v2, v3, v4, dy);
    out[b] = v <= 0.0 ? 0 : (v >= 255.0 ? 255 : static_cast<uint8_t>(v));
  }
  return true;
}

// bilinear_filter32RGB.
bool bilinear_sample(const uint8_t* in, int width, int height, double xin, double yin, uint8_t* out) {
  if (xin < 0.0 || xin >= width || yin < 0.0 || yin >= height) return false;
  xin -= 0.5;
  yin -= 0.5;
  const int x = floor_int(xin), y = floor_int(yin);
  const double dx = xin - x, dy = yin - y;
  const int x0 = clamp_index(x, width) * 3, x1 = clamp_index(x + 1, width) * 3;
  const int64_t stride = static_cast<int64_t>(width) * 3;
  for (int b = 0; b < 3; ++b) {
    const uint8_t* r = in + clamp_index(y, height) * stride + b;
    double v1 = r[x0] + (r[x1] - r[x0]) * dx;
    double v2 = v1;
    if (y + 1 >= 0 && y + 1 < height) {
      r = in + (y + 1) * stride + b;
      v2 = r[x0] + (r[x1] - r[x0]) * dx;
    }
    v1 = v1 + (v2 - v1) * dy;
    out[b] = static_cast<uint8_t>(v1);
  }
  return true;
}

// Python's round(x, 15): the double nearest to x's decimal expansion rounded to 15 places. glibc's
// printf rounds the exact binary value correctly, as CPython's dtoa does.
double round15(double x) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.15f", x);
  return std::strtod(buffer, nullptr);
}

// Transpose.ROTATE_90 (quarter_turns 1), ROTATE_180 (2), ROTATE_270 (3): exact pixel moves.
Image quarter_turns(const Image& image, int turns) {
  const int64_t height = image.size(0), width = image.size(1);
  if (turns == 2) return image.flip({0, 1}).contiguous();
  Image out = at::empty({width, height, 3}, at::kByte);
  const uint8_t* in = image.data_ptr<uint8_t>();
  uint8_t* dst = out.data_ptr<uint8_t>();
  for (int64_t y = 0; y < height; ++y) {
    for (int64_t x = 0; x < width; ++x) {
      // ROTATE_90: out[W - 1 - x][y] = in[y][x]; ROTATE_270: out[x][H - 1 - y] = in[y][x]
      const int64_t oy = turns == 1 ? width - 1 - x : x;
      const int64_t ox = turns == 1 ? y : height - 1 - y;
      for (int c = 0; c < 3; ++c) dst[(oy * height + ox) * 3 + c] = in[(y * width + x) * 3 + c];
    }
  }
  return out;
}

}  // namespace

Image affine_transform(const Image& image, const std::array<double, 6>& a, Resampling resampling, const Fill& fill) {
  check_image(image, "affine_transform");
  for (double v : a) {
    if (!std::isfinite(v)) throw ConfigError("affine_transform: the matrix must be finite, got " + std::to_string(v));
  }
  const int height = static_cast<int>(image.size(0)), width = static_cast<int>(image.size(1));
  Image out = at::empty({height, width, 3}, at::kByte);  // [H, W, 3]
  const uint8_t* in = image.data_ptr<uint8_t>();
  uint8_t* dst = out.data_ptr<uint8_t>();
  const bool bicubic = resampling == Resampling::kBicubic;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x, dst += 3) {
      // Geometry.c's affine_transform
      const double xin = x + 0.5, yin = y + 0.5;
      const double xx = a[0] * xin + a[1] * yin + a[2];
      const double yy = a[3] * xin + a[4] * yin + a[5];
      const bool inside = bicubic ? bicubic_sample(in, width, height, xx, yy, dst)
                                  : bilinear_sample(in, width, height, xx, yy, dst);
      if (!inside) {
        dst[0] = fill[0];
        dst[1] = fill[1];
        dst[2] = fill[2];
      }
    }
  }
  return out;
}

Image rotate(const Image& image, double degrees, Resampling resampling, const Fill& fill) {
  check_image(image, "rotate");
  if (!std::isfinite(degrees)) throw ConfigError("rotate: the angle must be finite, got " + std::to_string(degrees));
  // Python's angle % 360.0: the remainder takes the divisor's sign.
  double angle = std::fmod(degrees, 360.0);
  if (angle != 0.0 && angle < 0.0) angle += 360.0;
  const bool square = image.size(0) == image.size(1);
  if (angle == 0.0) return image.clone();
  if (angle == 180.0) return quarter_turns(image, 2);
  if (square && angle == 90.0) return quarter_turns(image, 1);
  if (square && angle == 270.0) return quarter_turns(image, 3);
  const double w = static_cast<double>(image.size(1)), h = static_cast<double>(image.size(0));
  const double center_x = w / 2, center_y = h / 2;
  const double radians = -(angle * (M_PI / 180.0));  // -math.radians(angle)
  std::array<double, 6> m = {round15(std::cos(radians)), round15(std::sin(radians)), 0.0,
                             round15(-std::sin(radians)), round15(std::cos(radians)), 0.0};
  // transform(-cx, -cy, matrix), then += centre, in Python's left-to-right order.
  const double c = m[0] * -center_x + m[1] * -center_y + m[2];
  const double f = m[3] * -center_x + m[4] * -center_y + m[5];
  m[2] = c + center_x;
  m[5] = f + center_y;
  return affine_transform(image, m, resampling, fill);
}

}  // namespace slipstream
