#include "slipstream/data/image/geometric_transforms.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <tuple>
#include <vector>

#include "slipstream/core/error.h"
#include "pixel_loop.h"

namespace slipstream {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's fixed point for 8-bit resampling

// Pillow's filters of Resample.c: bilinear (triangle, support 1) and bicubic (a = -0.5, support 2).
double bilinear_filter(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

double bicubic_filter(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// Pillow's precompute_coeffs for one of those filters, then normalize_coeffs_8bpc.
struct Coefficients {
  int64_t kernel_size = 0;
  std::vector<int64_t> bounds;   // [out, 2]: first input index, count
  std::vector<int32_t> weights;  // [out, kernel_size] fixed point
};

// Pillow's precompute_coeffs: out_size samples of the input range [in0, in1) (fractional, as
// Image.resize's box) of a line of in_size pixels.
Coefficients precompute_coefficients(int64_t in_size, double in0, double in1, int64_t out_size, Resampling resampling) {
  const bool bicubic = resampling == Resampling::kBicubic;
  const double scale = (in1 - in0) / static_cast<double>(out_size);
  const double filter_scale = std::max(scale, 1.0);
  const double support = (bicubic ? 2.0 : 1.0) * filter_scale;
  Coefficients c;
  c.kernel_size = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(static_cast<size_t>(out_size) * 2);
  c.weights.assign(static_cast<size_t>(out_size * c.kernel_size), 0);
  std::vector<double> k(static_cast<size_t>(c.kernel_size));
  for (int64_t out = 0; out < out_size; ++out) {
    const double center = in0 + (static_cast<double>(out) + 0.5) * scale;
    const double inverse = 1.0 / filter_scale;
    int64_t first = static_cast<int64_t>(center - support + 0.5);  // C's truncating cast, as Pillow
    if (first < 0) first = 0;
    int64_t last = static_cast<int64_t>(center + support + 0.5);
    if (last > in_size) last = in_size;
    const int64_t count = last - first;
    double total = 0.0;
    for (int64_t x = 0; x < count; ++x) {
      const double t = (static_cast<double>(x + first) - center + 0.5) * inverse;
      k[x] = bicubic ? bicubic_filter(t) : bilinear_filter(t);
      total += k[x];
    }
    for (int64_t x = 0; x < count; ++x) {
      const double w = total != 0.0 ? k[x] / total : k[x];
      c.weights[out * c.kernel_size + x] = static_cast<int32_t>(
          w < 0 ? -0.5 + w * (1 << kPrecisionBits) : 0.5 + w * (1 << kPrecisionBits));
    }
    c.bounds[out * 2] = first;
    c.bounds[out * 2 + 1] = count;
  }
  return c;
}

inline uint8_t clip8(int32_t value) {
  const int32_t shifted = value >> kPrecisionBits;
  return static_cast<uint8_t>(shifted < 0 ? 0 : (shifted > 255 ? 255 : shifted));
}

// One output row of the horizontal pass: `row` holds 3-byte pixels, `target` gets out_width of them.
void resample_row(const uint8_t* row, const Coefficients& c, int64_t out_width, uint8_t* target) {
  for (int64_t x = 0; x < out_width; ++x) {
    const int64_t first = c.bounds[x * 2], count = c.bounds[x * 2 + 1];
    const int32_t* k = &c.weights[x * c.kernel_size];
    int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
    for (int64_t i = 0; i < count; ++i) {
      const uint8_t* pixel = row + (first + i) * 3;
      s0 += pixel[0] * k[i];
      s1 += pixel[1] * k[i];
      s2 += pixel[2] * k[i];
    }
    target[x * 3] = clip8(s0);
    target[x * 3 + 1] = clip8(s1);
    target[x * 3 + 2] = clip8(s2);
  }
}

#if SLIPSTREAM_X86_DISPATCH
// resample_row with a pixel's three channels in three int32 lanes: the same products and sums.
// Each pixel is loaded as 4 bytes, so the byte after the row's last pixel used must be readable.
__attribute__((target("avx2"))) void resample_row_avx2(const uint8_t* row, const Coefficients& c, int64_t out_width,
                                                       uint8_t* target) {
  const __m128i half = _mm_set1_epi32(1 << (kPrecisionBits - 1));
  for (int64_t x = 0; x < out_width; ++x) {
    const int64_t first = c.bounds[x * 2], count = c.bounds[x * 2 + 1];
    const int32_t* k = &c.weights[x * c.kernel_size];
    __m128i sum = half;
    for (int64_t i = 0; i < count; ++i) {
      int32_t bytes;
      std::memcpy(&bytes, row + (first + i) * 3, 4);
      const __m128i pixel = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(bytes));  // [r, g, b, next]
      sum = _mm_add_epi32(sum, _mm_mullo_epi32(pixel, _mm_set1_epi32(k[i])));
    }
    // clip8 on each lane: shift, then saturate to int16 and to uint8
    const __m128i shifted = _mm_srai_epi32(sum, kPrecisionBits);
    const int32_t packed = _mm_cvtsi128_si32(_mm_packus_epi16(_mm_packs_epi32(shifted, shifted), shifted));
    std::memcpy(target + x * 3, &packed, 3);
  }
}
#endif

// Horizontal pass over rows [row_begin, row_begin + rows) of `in` (row stride `in_stride` bytes,
// 3 bytes a pixel) into `out` [rows, out_width, 3]; `in_end` is one past the image's last byte.
void resample_horizontal(const uint8_t* in, int64_t in_stride, int64_t row_begin, int64_t rows,
                         const Coefficients& c, int64_t out_width, uint8_t* out, const uint8_t* in_end) {
  const int64_t last = out_width - 1;
  // Bytes a row reads: both filters give bounds that never move left, so the last output pixel reads furthest.
  const int64_t row_extent = (c.bounds[last * 2] + c.bounds[last * 2 + 1]) * 3;
  for (int64_t y = 0; y < rows; ++y) {
    const uint8_t* row = in + (row_begin + y) * in_stride;
    uint8_t* target = out + y * out_width * 3;
#if SLIPSTREAM_X86_DISPATCH
    if (avx2_pixel_loops() && row + row_extent < in_end) {
      resample_row_avx2(row, c, out_width, target);
      continue;
    }
#endif
    resample_row(row, c, out_width, target);
  }
}

// Vertical pass: `in` rows (stride in_stride) -> `out` [out_height, width, 3]; bounds are
// relative to `in`'s first row. Each output row accumulates whole input rows (contiguous, so the
// compiler vectorises it); the integer sums are Pillow's, in another order.
SLIPSTREAM_PIXEL_LOOP void resample_vertical(const uint8_t* in, int64_t in_stride, int64_t width, const Coefficients& c,
                       int64_t out_height, uint8_t* out) {
  const int64_t values = width * 3;
  std::vector<int32_t> sums(static_cast<size_t>(values));
  for (int64_t y = 0; y < out_height; ++y) {
    const int64_t first = c.bounds[y * 2], count = c.bounds[y * 2 + 1];
    const int32_t* k = &c.weights[y * c.kernel_size];
    int32_t* sum = sums.data();
    std::fill(sums.begin(), sums.end(), 1 << (kPrecisionBits - 1));
    for (int64_t i = 0; i < count; ++i) {
      const uint8_t* row = in + (first + i) * in_stride;
      const int32_t weight = k[i];
      for (int64_t x = 0; x < values; ++x) sum[x] += row[x] * weight;
    }
    uint8_t* target = out + y * values;
    for (int64_t x = 0; x < values; ++x) target[x] = clip8(sum[x]);
  }
}

void check_box(int64_t height, int64_t width, const CropBox& box) {
  if (box.height <= 0 || box.width <= 0 || box.top < 0 || box.left < 0 || box.top + box.height > height ||
      box.left + box.width > width) {
    throw ShapeError("crop box (top " + std::to_string(box.top) + ", left " + std::to_string(box.left) + ", " +
                     std::to_string(box.height) + "x" + std::to_string(box.width) + ") does not fit an image of " +
                     std::to_string(height) + "x" + std::to_string(width));
  }
}

}  // namespace

CropBox sample_resized_crop(int64_t height, int64_t width, std::pair<double, double> scale,
                            std::pair<double, double> ratio, std::mt19937_64& rng) {
  const double area = static_cast<double>(height * width);
  std::uniform_real_distribution<double> area_share(scale.first, scale.second);
  std::uniform_real_distribution<double> log_ratio(std::log(ratio.first), std::log(ratio.second));
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * area_share(rng);
    const double aspect = std::exp(log_ratio(rng));
    const auto w = static_cast<int64_t>(std::nearbyint(std::sqrt(target_area * aspect)));  // round half to even
    const auto h = static_cast<int64_t>(std::nearbyint(std::sqrt(target_area / aspect)));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const int64_t top = std::uniform_int_distribution<int64_t>(0, height - h)(rng);
      const int64_t left = std::uniform_int_distribution<int64_t>(0, width - w)(rng);
      return {top, left, h, w};
    }
  }
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  int64_t w = width, h = height;
  if (in_ratio < ratio.first) {
    h = static_cast<int64_t>(std::nearbyint(static_cast<double>(w) / ratio.first));
  } else if (in_ratio > ratio.second) {
    w = static_cast<int64_t>(std::nearbyint(static_cast<double>(h) * ratio.second));
  }
  return {(height - h) / 2, (width - w) / 2, h, w};
}

namespace {

// The resize of `region` (the pixels read) with the given per-axis coefficients (over region
// coordinates): horizontally first, only the rows the vertical pass reads, as Pillow.
Image resample_region(const Image& image, const CropBox& region, Coefficients rows, const Coefficients& columns,
                      int64_t out_height, int64_t out_width) {
  const int64_t stride = image.size(1) * 3;
  const uint8_t* origin = image.data_ptr<uint8_t>() + region.top * stride + region.left * 3;
  const uint8_t* image_end = image.data_ptr<uint8_t>() + image.numel();
  Image out = at::empty({out_height, out_width, 3}, at::kByte);  // [out_height, out_width, 3]
  const int64_t first_row = rows.bounds[0];
  const int64_t last_row = rows.bounds[(out_height - 1) * 2] + rows.bounds[(out_height - 1) * 2 + 1];
  for (int64_t y = 0; y < out_height; ++y) rows.bounds[y * 2] -= first_row;
  std::vector<uint8_t> temporary(static_cast<size_t>((last_row - first_row) * out_width * 3));
  resample_horizontal(origin, stride, first_row, last_row - first_row, columns, out_width, temporary.data(), image_end);
  resample_vertical(temporary.data(), out_width * 3, out_width, rows, out_height, out.data_ptr<uint8_t>());
  return out;
}

}  // namespace

Image resized_crop(const Image& image, const CropBox& box, int64_t out_height, int64_t out_width,
                   Resampling resampling) {
  check_image(image, "resized_crop");
  check_box(image.size(0), image.size(1), box);
  if (out_height <= 0 || out_width <= 0) throw ShapeError("resized_crop: output size must be positive");
  const int64_t stride = image.size(1) * 3;
  const uint8_t* origin = image.data_ptr<uint8_t>() + box.top * stride + box.left * 3;
  const uint8_t* image_end = image.data_ptr<uint8_t>() + image.numel();
  Image out = at::empty({out_height, out_width, 3}, at::kByte);  // [out_height, out_width, 3]
  const bool horizontal = out_width != box.width;
  const bool vertical = out_height != box.height;
  if (!horizontal && !vertical) {
    for (int64_t y = 0; y < out_height; ++y) {
      std::copy_n(origin + y * stride, out_width * 3, out.data_ptr<uint8_t>() + y * out_width * 3);
    }
    return out;
  }
  const auto line = [&](int64_t in_size, int64_t out_size) {
    return precompute_coefficients(in_size, 0.0, static_cast<double>(in_size), out_size, resampling);
  };
  if (!horizontal) {
    resample_vertical(origin, stride, out_width, line(box.height, out_height), out_height, out.data_ptr<uint8_t>());
    return out;
  }
  if (!vertical) {
    resample_horizontal(origin, stride, 0, out_height, line(box.width, out_width), out_width, out.data_ptr<uint8_t>(),
                        image_end);
    return out;
  }
  return resample_region(image, box, line(box.height, out_height), line(box.width, out_width), out_height, out_width);
}

Image resized_crop_reduced(const Image& image, const CropBox& box, int reduction, int64_t out_height, int64_t out_width,
                           Resampling resampling) {
  check_image(image, "resized_crop_reduced");
  if (reduction < 1) throw ShapeError("resized_crop_reduced: the reduction must be at least 1, got " + std::to_string(reduction));
  if (reduction == 1) return resized_crop(image, box, out_height, out_width, resampling);
  check_box(image.size(0) * reduction, image.size(1) * reduction, box);
  if (out_height <= 0 || out_width <= 0) throw ShapeError("resized_crop_reduced: output size must be positive");
  // The box's edges on the reduced image, fractional; the pixels read are those the box touches.
  const auto span = [reduction](int64_t first, int64_t count, int64_t size) {
    const double begin = static_cast<double>(first) / reduction, end = static_cast<double>(first + count) / reduction;
    const int64_t lo = std::clamp<int64_t>(static_cast<int64_t>(std::floor(begin)), 0, size - 1);
    const int64_t hi = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(end)), lo + 1, size);
    return std::make_tuple(lo, hi - lo, begin - static_cast<double>(lo), std::min(end, static_cast<double>(hi)) - static_cast<double>(lo));
  };
  const auto [top, height, y0, y1] = span(box.top, box.height, image.size(0));
  const auto [left, width, x0, x1] = span(box.left, box.width, image.size(1));
  return resample_region(image, {top, left, height, width}, precompute_coefficients(height, y0, y1, out_height, resampling),
                         precompute_coefficients(width, x0, x1, out_width, resampling), out_height, out_width);
}

Image resize(const Image& image, int64_t out_height, int64_t out_width, Resampling resampling) {
  check_image(image, "resize");
  return resized_crop(image, {0, 0, image.size(0), image.size(1)}, out_height, out_width, resampling);
}

Image resize_short_side(const Image& image, int64_t size, Resampling resampling) {
  check_image(image, "resize_short_side");
  const int64_t height = image.size(0), width = image.size(1);
  if (height <= width) {
    if (height == size) return image;
    return resize(image, size, static_cast<int64_t>(static_cast<double>(size) * width / height), resampling);
  }
  if (width == size) return image;
  return resize(image, static_cast<int64_t>(static_cast<double>(size) * height / width), size, resampling);
}

Image center_crop(const Image& image, int64_t size) {
  check_image(image, "center_crop");
  const int64_t height = image.size(0), width = image.size(1);
  if (height < size || width < size) {
    throw ShapeError("center_crop: image " + std::to_string(height) + "x" + std::to_string(width) +
                     " is smaller than the crop " + std::to_string(size));
  }
  const auto top = static_cast<int64_t>(std::nearbyint(static_cast<double>(height - size) / 2.0));
  const auto left = static_cast<int64_t>(std::nearbyint(static_cast<double>(width - size) / 2.0));
  return image.slice(0, top, top + size).slice(1, left, left + size).contiguous();
}

Image horizontal_flip(const Image& image) {
  check_image(image, "horizontal_flip");
  return image.flip({1}).contiguous();
}

}  // namespace slipstream
