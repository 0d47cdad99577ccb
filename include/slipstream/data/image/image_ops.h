// Pillow's ImageOps point operations on an RGB image, as timm's AutoAugment / RandAugment call them:
// each builds Pillow's 768-entry lookup table (per channel where it depends on the histogram) and
// applies it as Image.point does, so the results equal Pillow's byte for byte.
#pragma once
#include "slipstream/data/image/image.h"

namespace slipstream {

// Every function takes a contiguous CPU uint8 [H, W, 3] image (ShapeError otherwise) and returns a
// new [H, W, 3] image; the input is never modified.

// ImageOps.invert: 255 - v.
Image invert(const Image& image);

// ImageOps.posterize(img, bits): v & ~(2^(8 - bits) - 1), bits in [0, 8] (ConfigError otherwise).
// Recent Pillow (13, the parity reference) rejects bits 0, which timm's PosterizeIncreasing asks for
// at magnitude 10 (and Posterize at 0): timm then raises. Here 0 keeps no bit (a black image), what
// the mask gave before Pillow checked the range.
Image posterize(const Image& image, int bits);

// ImageOps.solarize(img, threshold): v < threshold ? v : 255 - v (threshold 256: unchanged).
Image solarize(const Image& image, int threshold);

// timm's solarize_add(img, add, thresh): v < thresh ? min(255, v + add) : v.
Image solarize_add(const Image& image, int add, int threshold = 128);

// ImageOps.autocontrast(img) (cutoff 0, no ignore, no mask): per channel, the lowest and highest
// values present are stretched to 0 and 255 with Pillow's float LUT; a channel with one value is kept.
Image autocontrast(const Image& image);

// ImageOps.equalize(img) (no mask): per channel, Pillow's histogram-equalisation LUT
// (step = (count - count of the highest value) // 255, lut[i] = (step // 2 + cumulative) // step).
Image equalize(const Image& image);

}  // namespace slipstream
