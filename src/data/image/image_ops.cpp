// Pillow's ImageOps point operations (invert, posterize, solarize, autocontrast, equalize) and timm's
// solarize_add: Python's LUT arithmetic, applied per channel as Image.point with a 768-entry table.
// Compiled with -ffp-contract=off (CMakeLists.txt) so autocontrast's ix * scale + offset rounds twice.
#include "slipstream/data/image/image_ops.h"

#include <ATen/ATen.h>

#include <array>
#include <cstdint>
#include <string>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

using ChannelTables = std::array<std::array<uint8_t, 256>, 3>;

// Image.point with a per-channel table ([H, W, 3] -> [H, W, 3]).
Image apply_tables(const Image& image, const ChannelTables& tables) {
  Image out = at::empty_like(image);
  const uint8_t* in = image.data_ptr<uint8_t>();
  uint8_t* dst = out.data_ptr<uint8_t>();
  const int64_t pixels = image.size(0) * image.size(1);
  for (int64_t i = 0; i < pixels; ++i, in += 3, dst += 3) {
    dst[0] = tables[0][in[0]];
    dst[1] = tables[1][in[1]];
    dst[2] = tables[2][in[2]];
  }
  return out;
}

template <typename F>
Image apply_function(const Image& image, F f) {
  ChannelTables tables;
  for (int v = 0; v < 256; ++v) tables[0][v] = tables[1][v] = tables[2][v] = static_cast<uint8_t>(f(v));
  return apply_tables(image, tables);
}

// Image.histogram() of an RGB image: 256 counts a channel.
std::array<std::array<int64_t, 256>, 3> channel_histograms(const Image& image) {
  std::array<std::array<int64_t, 256>, 3> h{};
  const uint8_t* in = image.data_ptr<uint8_t>();
  const int64_t pixels = image.size(0) * image.size(1);
  for (int64_t i = 0; i < pixels; ++i, in += 3) {
    ++h[0][in[0]];
    ++h[1][in[1]];
    ++h[2][in[2]];
  }
  return h;
}

// _imaging.c's point: LUT entries are clipped to [0, 255].
inline uint8_t clip8(int64_t v) { return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v)); }

}  // namespace

Image invert(const Image& image) {
  check_image(image, "invert");
  return apply_function(image, [](int v) { return 255 - v; });
}

Image posterize(const Image& image, int bits) {
  check_image(image, "posterize");
  if (bits < 0 || bits > 8) throw ConfigError("posterize: bits must be in [0, 8], got " + std::to_string(bits));
  const int mask = ~((1 << (8 - bits)) - 1);
  return apply_function(image, [mask](int v) { return v & mask; });
}

Image solarize(const Image& image, int threshold) {
  check_image(image, "solarize");
  return apply_function(image, [threshold](int v) { return v < threshold ? v : 255 - v; });
}

Image solarize_add(const Image& image, int add, int threshold) {
  check_image(image, "solarize_add");
  return apply_function(image, [add, threshold](int v) { return v < threshold ? std::min(255, v + add) : v; });
}

Image autocontrast(const Image& image) {
  check_image(image, "autocontrast");
  const auto h = channel_histograms(image);
  ChannelTables tables;
  for (int c = 0; c < 3; ++c) {
    int lo = 0, hi = 255;
    while (lo < 255 && h[c][lo] == 0) ++lo;
    while (hi > 0 && h[c][hi] == 0) --hi;
    if (hi <= lo) {
      for (int v = 0; v < 256; ++v) tables[c][v] = static_cast<uint8_t>(v);
      continue;
    }
    const double scale = 255.0 / (hi - lo);
    const double offset = -lo * scale;
    for (int v = 0; v < 256; ++v) {
      const double mapped = v * scale + offset;
      tables[c][v] = clip8(static_cast<int64_t>(mapped));  // Python's int() truncates toward zero
    }
  }
  return apply_tables(image, tables);
}

Image equalize(const Image& image) {
  check_image(image, "equalize");
  const auto h = channel_histograms(image);
  ChannelTables tables;
  for (int c = 0; c < 3; ++c) {
    int64_t total = 0, last = 0;
    int present = 0;
    for (int v = 0; v < 256; ++v) {
      if (h[c][v] == 0) continue;
      total += h[c][v];
      last = h[c][v];
      ++present;
    }
    const int64_t step = present <= 1 ? 0 : (total - last) / 255;
    if (step == 0) {
      for (int v = 0; v < 256; ++v) tables[c][v] = static_cast<uint8_t>(v);
      continue;
    }
    int64_t n = step / 2;
    for (int v = 0; v < 256; ++v) {
      tables[c][v] = clip8(n / step);
      n += h[c][v];
    }
  }
  return apply_tables(image, tables);
}

}  // namespace slipstream
