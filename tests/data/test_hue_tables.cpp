// adjust_hue reads its divisions and roundings from tables, or (on AVX2 CPUs) computes them for
// eight pixels at a time; this checks, on every one of the 2^24 RGB colours and several shifts, that
// it equals Pillow's HSV round trip computed directly (the arithmetic of libImaging/Convert.c's
// rgb2hsv_row and hsv2rgb, as the parity suite validated it). ctest runs it for both paths
// (baseline_pixel_loops sets SLIPSTREAM_BASELINE_PIXEL_LOOPS).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "slipstream/data/image/color_transforms.h"

namespace slipstream {
namespace {

void direct_rgb_to_hsv(const uint8_t* in, uint8_t* out) {
  const uint8_t r = in[0], g = in[1], b = in[2];
  const uint8_t maxc = std::max(r, std::max(g, b)), minc = std::min(r, std::min(g, b));
  uint8_t uh = 0, us = 0;
  if (minc != maxc) {
    const float cr = static_cast<float>(maxc - minc);
    const float s = cr / static_cast<float>(maxc);
    const float rc = static_cast<float>(maxc - r) / cr, gc = static_cast<float>(maxc - g) / cr,
                bc = static_cast<float>(maxc - b) / cr;
    float h = r == maxc ? bc - gc : g == maxc ? static_cast<float>(2.0 + rc - bc) : static_cast<float>(4.0 + gc - rc);
    h = static_cast<float>(std::fmod(h / 6.0 + 1.0, 1.0));
    uh = static_cast<uint8_t>(std::clamp(static_cast<int>(h * 255.0), 0, 255));
    us = static_cast<uint8_t>(std::clamp(static_cast<int>(s * 255.0), 0, 255));
  }
  out[0] = uh, out[1] = us, out[2] = maxc;
}

void direct_hsv_to_rgb(const uint8_t* in, uint8_t* out) {
  const uint8_t h = in[0], s = in[1], v = in[2];
  if (s == 0) {
    out[0] = out[1] = out[2] = v;
    return;
  }
  const int i = static_cast<int>(std::floor(static_cast<float>(h) * 6.0 / 255.0));
  const float f = static_cast<float>(static_cast<float>(h) * 6.0 / 255.0 - static_cast<float>(i));
  const float fs = static_cast<float>(static_cast<float>(s) / 255.0);
  const auto clip = [](double x) { return static_cast<uint8_t>(std::clamp(static_cast<int>(std::round(x)), 0, 255)); };
  const uint8_t p = clip(static_cast<float>(v) * (1.0 - fs)), q = clip(static_cast<float>(v) * (1.0 - fs * f)),
                t = clip(static_cast<float>(v) * (1.0 - fs * (1.0 - f)));
  const uint8_t table[6][3] = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
  std::copy(table[i % 6], table[i % 6] + 3, out);
}

TEST(HueTables, AdjustHueEqualsTheDirectArithmeticOnEveryColour) {
  Image colours = at::empty({4096, 4096, 3}, at::kByte);  // every RGB colour once
  uint8_t* p = colours.data_ptr<uint8_t>();
  for (uint32_t c = 0; c < (1u << 24); ++c) p[3 * c] = c >> 16, p[3 * c + 1] = (c >> 8) & 255, p[3 * c + 2] = c & 255;
  for (double factor : {-0.5, 0.0371, 0.1}) {
    const Image shifted = adjust_hue(colours, factor);
    const uint8_t shift = static_cast<uint8_t>(static_cast<int32_t>(factor * 255.0) & 0xff);
    const uint8_t* got = shifted.data_ptr<uint8_t>();
    int64_t mismatches = 0;
    for (uint32_t c = 0; c < (1u << 24); ++c) {
      uint8_t hsv[3], rgb[3];
      direct_rgb_to_hsv(p + 3 * c, hsv);
      hsv[0] = static_cast<uint8_t>(hsv[0] + shift);
      direct_hsv_to_rgb(hsv, rgb);
      mismatches += rgb[0] != got[3 * c] || rgb[1] != got[3 * c + 1] || rgb[2] != got[3 * c + 2];
    }
    EXPECT_EQ(mismatches, 0) << "hue factor " << factor;
  }
}

}  // namespace
}  // namespace slipstream
