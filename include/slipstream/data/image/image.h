// The image type of the data pipeline: a CPU at::Tensor of uint8 [H, W, 3], RGB, contiguous,
// as PIL holds an RGB image. Transforms take and return this type (so they can reproduce PIL's
// integer arithmetic exactly); to_normalized_chw() turns it into the float [3, H, W] a model reads.
#pragma once
#include <ATen/core/Tensor.h>

#include <array>
#include <string>

namespace slipstream {

using Image = at::Tensor;  // uint8 [H, W, 3], contiguous

// Throws ShapeError unless `image` is a contiguous CPU uint8 [H, W, 3] tensor with H, W > 0.
void check_image(const Image& image, const char* where);

// ImageNet statistics, as SLIP's transforms use them.
constexpr std::array<float, 3> kImageNetMean = {0.485f, 0.456f, 0.406f};
constexpr std::array<float, 3> kImageNetStd = {0.229f, 0.224f, 0.225f};

// torchvision's ToTensor + Normalize: uint8 [H, W, 3] -> float [3, H, W], (x/255 - mean) / std.
at::Tensor to_normalized_chw(const Image& image, const std::array<float, 3>& mean = kImageNetMean,
                             const std::array<float, 3>& std = kImageNetStd);

}  // namespace slipstream
