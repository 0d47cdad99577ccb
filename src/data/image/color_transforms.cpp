// Colour and blur operations of SLIP's SimCLR augmentations: Pillow's Blend, Convert and BoxBlur arithmetic.
#include "slipstream/data/image/color_transforms.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "slipstream/core/error.h"
#include "pixel_loop.h"

// The float / double mix below is deliberate: each expression evaluates in the precision Pillow's C
// code uses (float variables, double literals), so the truncations land on the same integers. This
// file is compiled with -ffp-contract=off (CMakeLists.txt) so no multiply-add gets fused.

namespace slipstream {
namespace {

void check_factor(double factor, const char* where) {
  if (!std::isfinite(factor)) throw ConfigError(std::string(where) + ": expected a finite factor, got " + std::to_string(factor));
}

// Pillow's L24 macro (libImaging/Convert.c, rgb2l): ITU-R 601-2 luma in 16-bit fixed point.
inline uint8_t luma(const uint8_t* rgb) {
  return static_cast<uint8_t>((rgb[0] * 19595u + rgb[1] * 38470u + rgb[2] * 7471u + 0x8000u) >> 16);
}

// Pillow's ImagingBlend (libImaging/Blend.c) on one value: in1 + alpha * (in2 - in1) in float; truncated
// when alpha is in [0, 1], clipped to [0, 255] then truncated when it is not. (alpha == 0 and 1 are the
// copy shortcuts, handled by the callers.)
inline uint8_t blend_value(int in1, int in2, float alpha, bool interpolate) {
  const float temp = static_cast<float>(in1) + alpha * static_cast<float>(in2 - in1);
  if (interpolate) return static_cast<uint8_t>(temp);
  if (temp <= 0.0f) return 0;
  if (temp >= 255.0f) return 255;
  return static_cast<uint8_t>(temp);
}

// Image.blend(degenerate, image, factor) where the degenerate image is one grey level for the whole
// image (brightness: 0, contrast: the mean): every output byte is a function of its input byte.
Image blend_with_constant(const Image& image, double factor, uint8_t base) {
  const float alpha = static_cast<float>(factor);  // Python float -> C float ("f" argument of core.blend)
  if (alpha == 1.0f) return image.clone();
  const bool interpolate = alpha >= 0.0f && alpha <= 1.0f;
  uint8_t table[256];
  for (int value = 0; value < 256; ++value) table[value] = alpha == 0.0f ? base : blend_value(base, value, alpha, interpolate);
  Image out = at::empty_like(image);
  const uint8_t* in = image.data_ptr<uint8_t>();
  uint8_t* dst = out.data_ptr<uint8_t>();
  const int64_t values = image.numel();
  for (int64_t i = 0; i < values; ++i) dst[i] = table[in[i]];
  return out;
}

// Image.blend(grey, image, factor) with grey the pixel's own luma (saturation).
template <bool kInterpolate>
SLIPSTREAM_PIXEL_LOOP void blend_pixels_with_luma(const uint8_t* in, uint8_t* dst, int64_t pixels, float alpha) {
  for (int64_t i = 0; i < pixels; ++i, in += 3, dst += 3) {
    const int grey = luma(in);
    for (int c = 0; c < 3; ++c) dst[c] = blend_value(grey, in[c], alpha, kInterpolate);
  }
}

Image blend_with_luma(const Image& image, double factor) {
  const float alpha = static_cast<float>(factor);
  if (alpha == 1.0f) return image.clone();
  Image out = at::empty_like(image);
  const uint8_t* in = image.data_ptr<uint8_t>();
  uint8_t* dst = out.data_ptr<uint8_t>();
  const int64_t pixels = image.size(0) * image.size(1);
  if (alpha == 0.0f) {
    for (int64_t i = 0; i < pixels; ++i, in += 3, dst += 3) dst[0] = dst[1] = dst[2] = luma(in);
  } else if (alpha > 0.0f && alpha < 1.0f) {
    blend_pixels_with_luma<true>(in, dst, pixels, alpha);
  } else {
    blend_pixels_with_luma<false>(in, dst, pixels, alpha);
  }
  return out;
}

// Every value of Pillow's HSV arithmetic that depends on at most two 8-bit inputs, computed once
// with the very expressions below it replaces (so the results are bit for bit the same): the
// float quotients of rgb2hsv, the saturation byte, and hsv2rgb's sector, fraction and p.
struct HsvTables {
  float quotient[256][256];    // [numerator][denominator]: (float)n / (float)d, d > 0
  uint8_t saturation[256][256];  // [max - min][max]: CLIP8((int)((cr / maxc) * 255.0))
  int sector[256];             // [h]: floor(h * 6.0 / 255.0) % 6
  float fraction[256];         // [h]: h * 6.0 / 255.0 - sector
  float scaled_s[256];         // [s]: s / 255.0
  uint8_t p[256][256];         // [s][v]: round(v * (1.0 - fs))

  HsvTables() {
    for (int n = 0; n < 256; ++n) {
      quotient[n][0] = 0.0f;
      for (int d = 1; d < 256; ++d) quotient[n][d] = static_cast<float>(n) / static_cast<float>(d);
    }
    for (int range = 0; range < 256; ++range) {
      for (int maxc = 0; maxc < 256; ++maxc) {
        const float s = maxc > 0 ? static_cast<float>(range) / static_cast<float>(maxc) : 0.0f;
        saturation[range][maxc] = static_cast<uint8_t>(std::clamp(static_cast<int>(s * 255.0), 0, 255));
      }
    }
    for (int h = 0; h < 256; ++h) {
      const int i = static_cast<int>(std::floor(static_cast<float>(h) * 6.0 / 255.0));  // 0 - 6
      fraction[h] = static_cast<float>(static_cast<float>(h) * 6.0 / 255.0 - static_cast<float>(i));
      sector[h] = i % 6;
    }
    for (int sat = 0; sat < 256; ++sat) {
      scaled_s[sat] = static_cast<float>(static_cast<float>(sat) / 255.0);
      for (int v = 0; v < 256; ++v) {
        p[sat][v] = static_cast<uint8_t>(std::clamp(static_cast<int>(std::round(static_cast<float>(v) * (1.0 - scaled_s[sat]))), 0, 255));
      }
    }
  }
};

const HsvTables& hsv_tables() {
  static const HsvTables tables;
  return tables;
}

// std::round for x >= 0, without the library call: x - trunc(x) is exact here (Sterbenz).
inline int round_nonnegative(double x) {
  const int whole = static_cast<int>(x);
  return whole + (x - whole >= 0.5 ? 1 : 0);
}

// Pillow's rgb2hsv_row (libImaging/Convert.c), following colorsys.py with 8-bit outputs.
inline void rgb_to_hsv(const HsvTables& tables, const uint8_t* in, uint8_t* out) {
  const uint8_t r = in[0], g = in[1], b = in[2];
  const uint8_t maxc = std::max(r, std::max(g, b));
  const uint8_t minc = std::min(r, std::min(g, b));
  uint8_t uh = 0, us = 0;
  if (minc != maxc) {
    const int cr = maxc - minc;  // (float) cr in Pillow; every quotient by it comes from the table
    const float rc = tables.quotient[maxc - r][cr];
    const float gc = tables.quotient[maxc - g][cr];
    const float bc = tables.quotient[maxc - b][cr];
    // Pillow's if / else if / else on which channel is the maximum, as selects (the branch is
    // unpredictable on photographs); each candidate is Pillow's expression.
    const float from_red = bc - gc;
    const float from_green = static_cast<float>(2.0 + rc - bc);
    const float from_blue = static_cast<float>(4.0 + gc - rc);
    float h = g == maxc ? from_green : from_blue;
    h = r == maxc ? from_red : h;
    // fmod(h / 6 + 1, 1) with h / 6 + 1 in [0.8, 1.9): subtracting 1 is exact in double, and far cheaper.
    const double wrapped = h / 6.0 + 1.0;
    h = static_cast<float>(wrapped >= 1.0 ? wrapped - 1.0 : wrapped);
    // CLIP8((int)(x * 255.0)); the product lies in [0, 255] here
    uh = static_cast<uint8_t>(std::clamp(static_cast<int>(h * 255.0), 0, 255));
    us = tables.saturation[cr][maxc];
  }
  out[0] = uh;
  out[1] = us;
  out[2] = maxc;
}

// Pillow's hsv2rgb (libImaging/Convert.c).
inline void hsv_to_rgb(const HsvTables& tables, const uint8_t* in, uint8_t* out) {
  const uint8_t h = in[0], s = in[1], v = in[2];
  if (s == 0) {
    out[0] = out[1] = out[2] = v;
    return;
  }
  const float f = tables.fraction[h];
  const float fs = tables.scaled_s[s];
  const uint8_t up = tables.p[s][v];
  const int q = round_nonnegative(static_cast<float>(v) * (1.0 - fs * f));  // fs * f in float
  const int t = round_nonnegative(static_cast<float>(v) * (1.0 - fs * (1.0 - f)));
  const uint8_t uq = static_cast<uint8_t>(std::clamp(q, 0, 255));
  const uint8_t ut = static_cast<uint8_t>(std::clamp(t, 0, 255));
  // Pillow's switch (i % 6) as a lookup: which of v, t, p, q each channel takes in each sector.
  static constexpr uint8_t kSectorChannels[6][3] = {{0, 1, 2}, {3, 0, 2}, {2, 0, 1}, {2, 3, 0}, {1, 2, 0}, {0, 2, 3}};
  const uint8_t values[4] = {v, ut, up, uq};
  const uint8_t* channels = kSectorChannels[tables.sector[h]];
  out[0] = values[channels[0]];
  out[1] = values[channels[1]];
  out[2] = values[channels[2]];
}

#if SLIPSTREAM_X86_DISPATCH
// rgb_to_hsv, the shift and hsv_to_rgb on 8 pixels at once, each float or double operation the
// scalar code's own (IEEE division and rounding are exact whatever the width; no FMA): the
// divisions are computed instead of looked up, double expressions run on two halves of 4 lanes.
namespace hue_avx2 {

#define SLIPSTREAM_AVX2 __attribute__((target("avx2")))

struct Doubles {  // 8 lanes as two __m256d
  __m256d lo, hi;
};
SLIPSTREAM_AVX2 inline Doubles widen(__m256 x) {
  return {_mm256_cvtps_pd(_mm256_castps256_ps128(x)), _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1))};
}
SLIPSTREAM_AVX2 inline Doubles widen(__m256i x) {
  return {_mm256_cvtepi32_pd(_mm256_castsi256_si128(x)), _mm256_cvtepi32_pd(_mm256_extracti128_si256(x, 1))};
}
SLIPSTREAM_AVX2 inline __m256 to_float(Doubles x) {
  return _mm256_set_m128(_mm256_cvtpd_ps(x.hi), _mm256_cvtpd_ps(x.lo));
}
SLIPSTREAM_AVX2 inline __m256i truncate(Doubles x) {  // (int) x
  return _mm256_set_m128i(_mm256_cvttpd_epi32(x.hi), _mm256_cvttpd_epi32(x.lo));
}
SLIPSTREAM_AVX2 inline Doubles add(Doubles a, Doubles b) { return {_mm256_add_pd(a.lo, b.lo), _mm256_add_pd(a.hi, b.hi)}; }
SLIPSTREAM_AVX2 inline Doubles sub(Doubles a, Doubles b) { return {_mm256_sub_pd(a.lo, b.lo), _mm256_sub_pd(a.hi, b.hi)}; }
SLIPSTREAM_AVX2 inline Doubles mul(Doubles a, Doubles b) { return {_mm256_mul_pd(a.lo, b.lo), _mm256_mul_pd(a.hi, b.hi)}; }
SLIPSTREAM_AVX2 inline Doubles div(Doubles a, Doubles b) { return {_mm256_div_pd(a.lo, b.lo), _mm256_div_pd(a.hi, b.hi)}; }
SLIPSTREAM_AVX2 inline Doubles floor(Doubles a) { return {_mm256_floor_pd(a.lo), _mm256_floor_pd(a.hi)}; }
// 1.0 in the lanes where a >= b, 0.0 elsewhere
SLIPSTREAM_AVX2 inline Doubles at_least(Doubles a, Doubles b) {
  const __m256d one = _mm256_set1_pd(1.0);
  return {_mm256_and_pd(_mm256_cmp_pd(a.lo, b.lo, _CMP_GE_OQ), one), _mm256_and_pd(_mm256_cmp_pd(a.hi, b.hi, _CMP_GE_OQ), one)};
}
SLIPSTREAM_AVX2 inline Doubles constant(double value) {
  return {_mm256_set1_pd(value), _mm256_set1_pd(value)};
}
// std::round for x >= 0, as round_nonnegative: floor(x) + (x - floor(x) >= 0.5)
SLIPSTREAM_AVX2 inline __m256i round_nonnegative(Doubles x) {
  const Doubles whole = floor(x);
  return truncate(add(whole, at_least(sub(x, whole), constant(0.5))));
}
SLIPSTREAM_AVX2 inline __m256i clamp_byte(__m256i x) {
  return _mm256_min_epi32(_mm256_max_epi32(x, _mm256_setzero_si256()), _mm256_set1_epi32(255));
}
SLIPSTREAM_AVX2 inline __m256i select(__m256i mask, __m256i if_true, __m256i if_false) {
  return _mm256_blendv_epi8(if_false, if_true, mask);
}

// Rotates the hue of the first pixels - pixels % 8 pixels; returns how many it did.
SLIPSTREAM_AVX2 int64_t rotate(const uint8_t* in, uint8_t* dst, int64_t pixels, uint8_t shift) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256 one_f = _mm256_set1_ps(1.0f);
  alignas(32) int32_t channels[3][8];
  int64_t i = 0;
  for (; i + 8 <= pixels; i += 8, in += 24, dst += 24) {
    for (int j = 0; j < 8; ++j) channels[0][j] = in[3 * j], channels[1][j] = in[3 * j + 1], channels[2][j] = in[3 * j + 2];
    const __m256i r = _mm256_load_si256(reinterpret_cast<const __m256i*>(channels[0]));
    const __m256i g = _mm256_load_si256(reinterpret_cast<const __m256i*>(channels[1]));
    const __m256i b = _mm256_load_si256(reinterpret_cast<const __m256i*>(channels[2]));
    // rgb2hsv_row
    const __m256i maxc = _mm256_max_epi32(r, _mm256_max_epi32(g, b));
    const __m256i minc = _mm256_min_epi32(r, _mm256_min_epi32(g, b));
    const __m256i grey = _mm256_cmpeq_epi32(maxc, minc);
    const __m256 cr = _mm256_blendv_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(maxc, minc)), one_f, _mm256_castsi256_ps(grey));
    const __m256 rc = _mm256_div_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(maxc, r)), cr);
    const __m256 gc = _mm256_div_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(maxc, g)), cr);
    const __m256 bc = _mm256_div_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(maxc, b)), cr);
    const __m256 from_red = _mm256_sub_ps(bc, gc);
    const __m256 from_green = to_float(sub(add(constant(2.0), widen(rc)), widen(bc)));
    const __m256 from_blue = to_float(sub(add(constant(4.0), widen(gc)), widen(rc)));
    __m256 h = _mm256_blendv_ps(from_blue, from_green, _mm256_castsi256_ps(_mm256_cmpeq_epi32(g, maxc)));
    h = _mm256_blendv_ps(h, from_red, _mm256_castsi256_ps(_mm256_cmpeq_epi32(r, maxc)));
    const Doubles wrapped = add(div(widen(h), constant(6.0)), constant(1.0));
    const __m256 hue = to_float(sub(wrapped, at_least(wrapped, constant(1.0))));
    __m256i uh = clamp_byte(truncate(mul(widen(hue), constant(255.0))));
    const __m256 saturation = _mm256_div_ps(cr, _mm256_blendv_ps(_mm256_cvtepi32_ps(maxc), one_f, _mm256_castsi256_ps(grey)));
    __m256i us = clamp_byte(truncate(mul(widen(saturation), constant(255.0))));
    uh = _mm256_andnot_si256(grey, uh);
    us = _mm256_andnot_si256(grey, us);
    // the shift, wrapping modulo 256
    const __m256i h2 = _mm256_and_si256(_mm256_add_epi32(uh, _mm256_set1_epi32(shift)), _mm256_set1_epi32(255));
    // hsv2rgb
    const Doubles sixths = div(mul(widen(h2), constant(6.0)), constant(255.0));
    const Doubles sector_d = floor(sixths);
    const __m256 f = to_float(sub(sixths, sector_d));
    __m256i sector = truncate(sector_d);
    sector = select(_mm256_cmpeq_epi32(sector, _mm256_set1_epi32(6)), zero, sector);  // i % 6
    const __m256 fs = to_float(div(widen(us), constant(255.0)));
    const Doubles v = widen(maxc);
    const Doubles fs_d = widen(fs);
    const __m256i p = clamp_byte(round_nonnegative(mul(v, sub(constant(1.0), fs_d))));
    const __m256i q = clamp_byte(round_nonnegative(mul(v, sub(constant(1.0), widen(_mm256_mul_ps(fs, f))))));  // fs * f in float
    const __m256i t = clamp_byte(round_nonnegative(mul(v, sub(constant(1.0), mul(fs_d, sub(constant(1.0), widen(f)))))));
    __m256i in_sector[5];
    for (int k = 0; k < 5; ++k) in_sector[k] = _mm256_cmpeq_epi32(sector, _mm256_set1_epi32(k));
    const __m256i s0 = in_sector[0], s1 = in_sector[1], s2 = in_sector[2], s3 = in_sector[3], s4 = in_sector[4];
    // by sector: 0 (v, t, p), 1 (q, v, p), 2 (p, v, t), 3 (p, q, v), 4 (t, p, v), 5 (v, p, q)
    const __m256i out[3] = {
        select(s1, q, select(_mm256_or_si256(s2, s3), p, select(s4, t, maxc))),
        select(s0, t, select(_mm256_or_si256(s1, s2), maxc, select(s3, q, p))),
        select(_mm256_or_si256(s0, s1), p, select(s2, t, select(_mm256_or_si256(s3, s4), maxc, q))),
    };
    const __m256i achromatic = _mm256_cmpeq_epi32(us, zero);
    for (int c = 0; c < 3; ++c) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(channels[c]), select(achromatic, maxc, out[c]));
    }
    for (int j = 0; j < 8; ++j) {
      for (int c = 0; c < 3; ++c) dst[3 * j + c] = static_cast<uint8_t>(channels[c][j]);
    }
  }
  return i;
}

#undef SLIPSTREAM_AVX2
}  // namespace hue_avx2
#endif

// Pillow's _gaussian_blur_radius (libImaging/BoxBlur.c): the fractional box radius whose `passes`
// repetitions approximate a Gaussian of standard deviation `radius` (Gwosdek et al., SSVM 2011).
float gaussian_blur_radius(float radius, int passes) {
  const float sigma2 = radius * radius / static_cast<float>(passes);
  const float big_l = static_cast<float>(std::sqrt(12.0 * sigma2 + 1.0));  // [7] box length
  const float l = static_cast<float>(std::floor((big_l - 1.0) / 2.0));    // [11] integer part of the radius
  float a = (2 * l + 1) * (l * (l + 1) - 3 * sigma2);                      // [14] fractional part
  a /= 6 * (sigma2 - (l + 1) * (l + 1));
  return l + a;
}

// Pillow's ImagingLineBoxBlur8 applied to many lines at once: `in` and `out` hold `length` rows of
// `lines` values, and each column is one line, blurred along the rows. One extended box blur of
// radius `radius` (+ a fractional part), edge values extended, in 8.24 fixed point: weight ww for
// the 2 * radius + 1 inner values, fw for the two fractional ones. The accumulators are Pillow's
// unsigned 32-bit ones (wrapping back into range), one per line, updated row by row so the
// compiler vectorises across lines.
SLIPSTREAM_PIXEL_LOOP void box_blur_rows(const uint8_t* in, uint8_t* out, int64_t lines, int length, int radius, uint32_t ww, uint32_t fw,
                   std::vector<uint32_t>& acc) {
  const int lastx = length - 1;
  const int edge_a = std::min(radius + 1, length), edge_b = std::max(length - radius - 1, 0);
  auto row = [&](int k) { return in + static_cast<int64_t>(k) * lines; };
  uint32_t* a = acc.data();
  for (int64_t v = 0; v < lines; ++v) a[v] = row(0)[v] * static_cast<uint32_t>(radius + 1);
  for (int x = 0; x < edge_a - 1; ++x) {
    const uint8_t* r = row(x);
    for (int64_t v = 0; v < lines; ++v) a[v] += r[v];
  }
  {
    const uint8_t* r = row(lastx);
    const uint32_t times = static_cast<uint32_t>(radius - edge_a + 1);
    for (int64_t v = 0; v < lines; ++v) a[v] += r[v] * times;
  }
  auto move = [&](int subtract, int add) {
    const uint8_t *s = row(subtract), *p = row(add);
    for (int64_t v = 0; v < lines; ++v) a[v] += static_cast<uint32_t>(p[v] - s[v]);
  };
  auto save = [&](int x, int left, int right) {
    const uint8_t *l = row(left), *r = row(right);
    uint8_t* o = out + static_cast<int64_t>(x) * lines;
    for (int64_t v = 0; v < lines; ++v) {
      const uint32_t bulk = a[v] * ww + static_cast<uint32_t>(l[v] + r[v]) * fw;
      o[v] = static_cast<uint8_t>((bulk + (1u << 23)) >> 24);
    }
  };
  if (edge_a <= edge_b) {
    for (int x = 0; x < edge_a; ++x) move(0, x + radius), save(x, 0, x + radius + 1);
    for (int x = edge_a; x < edge_b; ++x) move(x - radius - 1, x + radius), save(x, x - radius - 1, x + radius + 1);
    for (int x = edge_b; x <= lastx; ++x) move(x - radius - 1, lastx), save(x, x - radius - 1, lastx);
  } else {
    for (int x = 0; x < edge_b; ++x) move(0, x + radius), save(x, 0, x + radius + 1);
    for (int x = edge_b; x < edge_a; ++x) move(0, lastx), save(x, 0, lastx);
    for (int x = edge_a; x <= lastx; ++x) move(x - radius - 1, lastx), save(x, x - radius - 1, lastx);
  }
}

// `passes` extended box blurs of radius `float_radius` along the rows of `planes` ([length, lines]
// per plane, `count` planes), in place: Pillow's ImagingHorizontalBoxBlur on the transposed image, repeated.
void box_blur_planes(std::vector<uint8_t>& planes, int count, int64_t lines, int length, float float_radius, int passes) {
  const int radius = static_cast<int>(float_radius);
  const uint32_t ww = static_cast<uint32_t>(static_cast<float>(1u << 24) / (float_radius * 2 + 1));
  const uint32_t fw = ((1u << 24) - static_cast<uint32_t>(radius * 2 + 1) * ww) / 2;
  const int64_t plane_size = lines * length;
  std::vector<uint8_t> scratch(static_cast<size_t>(plane_size));
  std::vector<uint32_t> acc(static_cast<size_t>(lines));
  for (int c = 0; c < count; ++c) {
    uint8_t* plane = planes.data() + c * plane_size;
    for (int pass = 0; pass < passes; ++pass) {
      box_blur_rows(plane, scratch.data(), lines, length, radius, ww, fw, acc);
      std::copy(scratch.begin(), scratch.end(), plane);
    }
  }
}

}  // namespace

Image adjust_brightness(const Image& image, double factor) {
  check_image(image, "adjust_brightness");
  check_factor(factor, "adjust_brightness");
  return blend_with_constant(image, factor, 0);
}

Image adjust_contrast(const Image& image, double factor) {
  check_image(image, "adjust_contrast");
  check_factor(factor, "adjust_contrast");
  // ImageStat.Stat(img.convert("L")).mean[0]: sum over the histogram, divided in double
  const uint8_t* in = image.data_ptr<uint8_t>();
  const int64_t pixels = image.size(0) * image.size(1);
  int64_t sum = 0;
  for (int64_t i = 0; i < pixels; ++i) sum += luma(in + 3 * i);
  const double mean = static_cast<double>(sum) / static_cast<double>(pixels);
  const uint8_t grey = static_cast<uint8_t>(static_cast<int>(mean + 0.5));
  return blend_with_constant(image, factor, grey);
}

Image adjust_saturation(const Image& image, double factor) {
  check_image(image, "adjust_saturation");
  check_factor(factor, "adjust_saturation");
  return blend_with_luma(image, factor);
}

Image adjust_hue(const Image& image, double hue_factor) {
  check_image(image, "adjust_hue");
  if (!(hue_factor >= -0.5 && hue_factor <= 0.5)) {
    throw ConfigError("adjust_hue: expected hue_factor in [-0.5, 0.5], got " + std::to_string(hue_factor));
  }
  // np.int32(hue_factor * 255).astype(np.uint8): truncation toward zero, then wrap-around modulo 256
  const uint8_t shift = static_cast<uint8_t>(static_cast<int32_t>(hue_factor * 255.0) & 0xff);
  Image out = at::empty_like(image);
  const uint8_t* in = image.data_ptr<uint8_t>();
  uint8_t* dst = out.data_ptr<uint8_t>();
  const int64_t pixels = image.size(0) * image.size(1);
  int64_t i = 0;
#if SLIPSTREAM_X86_DISPATCH
  if (avx2_pixel_loops()) {
    i = hue_avx2::rotate(in, dst, pixels, shift);
    in += 3 * i, dst += 3 * i;
  }
#endif
  const HsvTables& tables = hsv_tables();
  uint8_t hsv[3];
  for (; i < pixels; ++i, in += 3, dst += 3) {
    rgb_to_hsv(tables, in, hsv);
    hsv[0] = static_cast<uint8_t>(hsv[0] + shift);
    hsv_to_rgb(tables, hsv, dst);
  }
  return out;
}

Image adjust_sharpness(const Image& image, double factor) {
  check_image(image, "adjust_sharpness");
  check_factor(factor, "adjust_sharpness");
  const float alpha = static_cast<float>(factor);
  if (alpha == 1.0f) return image.clone();
  const int64_t height = image.size(0), width = image.size(1);
  const uint8_t* in = image.data_ptr<uint8_t>();
  // img.filter(ImageFilter.SMOOTH): ImagingFilter3x3 with the float kernel {1 1 1, 1 5 1, 1 1 1} / 13.0f,
  // offset 0 + 0.5; border rows and columns copied; an image under 3x3 is copied whole.
  Image smooth = image.clone();  // [H, W, 3]
  if (height >= 3 && width >= 3) {
    const float side = 1.0f / 13.0f, middle = 5.0f / 13.0f;
    const float offset = 0.0f + 0.5f;
    const int64_t stride = width * 3;
    uint8_t* dst = smooth.data_ptr<uint8_t>();
    auto row3 = [](const uint8_t* row, int64_t i, float k0, float k1, float k2) {  // KERNEL1x3, d = one pixel
      return static_cast<float>(row[i - 3]) * k0 + static_cast<float>(row[i]) * k1 + static_cast<float>(row[i + 3]) * k2;
    };
    for (int64_t y = 1; y < height - 1; ++y) {
      const uint8_t* above = in + (y - 1) * stride;
      const uint8_t* here = in + y * stride;
      const uint8_t* below = in + (y + 1) * stride;
      for (int64_t i = 3; i < stride - 3; ++i) {
        float ss = offset;
        ss += row3(below, i, side, side, side);
        ss += row3(here, i, side, middle, side);
        ss += row3(above, i, side, side, side);
        ss = ss < 0.0f ? 0.0f : ss;
        ss = ss > 255.0f ? 255.0f : ss;
        dst[y * stride + i] = static_cast<uint8_t>(ss);
      }
    }
  }
  // ImageEnhance.Sharpness(img).enhance(factor) = Image.blend(smooth, img, factor)
  if (alpha == 0.0f) return smooth;
  const bool interpolate = alpha >= 0.0f && alpha <= 1.0f;
  Image out = at::empty_like(image);
  const uint8_t* degenerate = smooth.data_ptr<uint8_t>();
  uint8_t* dst = out.data_ptr<uint8_t>();
  const int64_t values = image.numel();
  for (int64_t i = 0; i < values; ++i) dst[i] = blend_value(degenerate[i], in[i], alpha, interpolate);
  return out;
}

Image to_grayscale_rgb(const Image& image) {
  check_image(image, "to_grayscale_rgb");
  Image out = at::empty_like(image);
  const uint8_t* in = image.data_ptr<uint8_t>();
  uint8_t* dst = out.data_ptr<uint8_t>();
  const int64_t pixels = image.size(0) * image.size(1);
  for (int64_t i = 0; i < pixels; ++i, in += 3, dst += 3) dst[0] = dst[1] = dst[2] = luma(in);
  return out;
}

Image gaussian_blur(const Image& image, double sigma) {
  check_image(image, "gaussian_blur");
  if (!(sigma >= 0.0) || !std::isfinite(sigma)) {
    throw ConfigError("gaussian_blur: expected a finite sigma >= 0, got " + std::to_string(sigma));
  }
  const float radius = static_cast<float>(sigma);  // Python float -> C float ("(ff)" of gaussian_blur)
  if (radius == 0.0f) return image.clone();        // ImageFilter.GaussianBlur: radius 0 is a copy
  constexpr int kPasses = 3;
  const float box_radius = gaussian_blur_radius(radius, kPasses);
  const int height = static_cast<int>(image.size(0)), width = static_cast<int>(image.size(1));
  const uint8_t* in = image.data_ptr<uint8_t>();
  Image out = at::empty_like(image);
  uint8_t* dst = out.data_ptr<uint8_t>();
  if (box_radius == 0.0f) {  // ImagingBoxBlur skips a direction of radius 0 (and copies if both are)
    std::copy(in, in + static_cast<size_t>(height) * width * 3, dst);
    return out;
  }
  const size_t plane = static_cast<size_t>(height) * width;
  // Pillow blurs every row (all passes), then every column. Rows are blurred as the lines of the
  // transposed planes [c][x][y], columns as the lines of the planes [c][y][x].
  std::vector<uint8_t> by_column(3 * plane), by_row(3 * plane);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) by_column[c * plane + static_cast<size_t>(x) * height + y] = in[(static_cast<size_t>(y) * width + x) * 3 + c];
  box_blur_planes(by_column, 3, height, width, box_radius, kPasses);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) by_row[c * plane + static_cast<size_t>(y) * width + x] = by_column[c * plane + static_cast<size_t>(x) * height + y];
  box_blur_planes(by_row, 3, width, height, box_radius, kPasses);
  for (size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) dst[3 * i + c] = by_row[c * plane + i];
  return out;
}

}  // namespace slipstream
