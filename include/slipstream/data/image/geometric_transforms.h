// Crops, resizes and flips with torchvision's semantics on PIL images: RandomResizedCrop's
// parameter sampling, Resize (short side), CenterCrop, and Pillow's antialiased bilinear and
// bicubic resampling (libImaging/Resample.c) reproduced in its own fixed-point arithmetic.
#pragma once
#include <cstdint>
#include <random>
#include <utility>

#include "slipstream/data/image/image.h"

namespace slipstream {

struct CropBox {
  int64_t top = 0, left = 0, height = 0, width = 0;
};

// torchvision RandomResizedCrop.get_params: 10 tries of (area share in `scale`, log-uniform aspect
// ratio in `ratio`), then the central fallback. Python's round-half-even is kept.
CropBox sample_resized_crop(int64_t height, int64_t width, std::pair<double, double> scale,
                            std::pair<double, double> ratio, std::mt19937_64& rng);

// Pillow's resampling filters: BILINEAR (triangle, support 1) and BICUBIC (Keys' cubic, a = -0.5, support 2).
enum class Resampling { kBilinear, kBicubic };

// Pillow's Image.resize(BILINEAR or BICUBIC) (antialiased: the filter widens with the downscale
// factor) of the `box` region: [H, W, 3] -> [out_height, out_width, 3]. As torchvision's
// resized_crop, the region is cropped first (img.crop(box).resize(size)), so edge pixels outside it
// are never read.
Image resized_crop(const Image& image, const CropBox& box, int64_t out_height, int64_t out_width,
                   Resampling resampling = Resampling::kBilinear);
// resized_crop of a box drawn on the full-size picture, cut from `image`, the picture decoded at
// 1/reduction (a JPEG's DCT scaling: pixel j covers the full picture's [reduction j, reduction (j+1))):
// the box's edges divided by the reduction, fractional, resampled as Pillow's
// Image.resize(size, box=...) over the pixels the box touches.
Image resized_crop_reduced(const Image& image, const CropBox& box, int reduction, int64_t out_height, int64_t out_width,
                           Resampling resampling = Resampling::kBilinear);
Image resize(const Image& image, int64_t out_height, int64_t out_width,
             Resampling resampling = Resampling::kBilinear);

// torchvision Resize(size) with an int: the short side becomes `size`, the long side
// int(size * long / short). An image whose short side is already `size` is returned as it is.
Image resize_short_side(const Image& image, int64_t size, Resampling resampling = Resampling::kBilinear);
// torchvision CenterCrop(size) (image at least size x size): offsets int(round((H - size) / 2)).
Image center_crop(const Image& image, int64_t size);
Image horizontal_flip(const Image& image);

}  // namespace slipstream
