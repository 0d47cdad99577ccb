// Pillow's affine warps of an RGB image: Image.transform(size, AFFINE, matrix, resample, fillcolor)
// and Image.rotate(angle, resample, fillcolor=...) (same size, centre (W / 2, H / 2), no expand),
// reproducing libImaging/Geometry.c's generic transform with its bilinear and bicubic filters in
// the same double arithmetic, so the results equal Pillow's byte for byte. These are the geometric
// ops of timm's RandAugment (rotate, shear_x/y, translate_x/y_rel).
#pragma once
#include <array>
#include <cstdint>

#include "slipstream/data/image/geometric_transforms.h"
#include "slipstream/data/image/image.h"

namespace slipstream {

using Fill = std::array<uint8_t, 3>;

// The inverse map (a, b, c, d, e, f), as Pillow takes it: output pixel (x, y) samples the input at
// (a (x + 0.5) + b (y + 0.5) + c, d (x + 0.5) + e (y + 0.5) + f); samples whose position falls
// outside the input keep `fill`. [H, W, 3] -> [H, W, 3]; ShapeError unless check_image passes.
Image affine_transform(const Image& image, const std::array<double, 6>& matrix, Resampling resampling,
                       const Fill& fill);

// Image.rotate(degrees, resample, fillcolor=fill): counter-clockwise about the centre, Pillow's
// matrix (cos and sin rounded to 15 decimals as Python's round) and its fast paths (0 and 180
// degrees always, 90 and 270 on square images) that copy pixels exactly. [H, W, 3] -> [H, W, 3].
Image rotate(const Image& image, double degrees, Resampling resampling, const Fill& fill);

}  // namespace slipstream
