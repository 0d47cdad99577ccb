// timm's RandomErasing (timm.data.random_erasing), applied after normalisation as timm's
// create_transform(re_prob, re_mode, re_count) does: with `probability`, 1 to max_count boxes, each
// from 10 attempts at (area share U[min_area, max_area] / count, log-uniform aspect in
// [min_aspect, max_aspect]) rounded half to even and strictly inside the image, filled with N(0, 1)
// values per element ("pixel"), per channel ("rand") or zeros ("const"). The draws come from a
// std::mt19937_64, not Python's `random` and torch's generator.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "slipstream/data/image/geometric_transforms.h"

namespace slipstream {

enum class ErasingMode { kConst, kRand, kPixel };
ErasingMode parse_erasing_mode(const std::string& name);  // "const", "rand", "pixel"; ConfigError otherwise
std::string erasing_mode_name(ErasingMode mode);

struct RandomErasingOptions {
  double probability = 0.25;
  double min_area = 0.02;
  double max_area = 1.0 / 3.0;
  double min_aspect = 0.3;
  double max_aspect = 1.0 / 0.3;
  ErasingMode mode = ErasingMode::kPixel;
  int min_count = 1;
  int max_count = 1;
};

// The boxes one image gets (none when the probability draw fails or no attempt fits).
std::vector<CropBox> sample_random_erasing(int64_t height, int64_t width, const RandomErasingOptions& options,
                                           std::mt19937_64& rng);

// float [C, H, W] -> a new float [C, H, W] with `boxes` filled as `mode` says, the N(0, 1) values
// drawn from `rng` box by box (channel-major within a box). ShapeError for a box outside the image.
at::Tensor erase_boxes(const at::Tensor& image, const std::vector<CropBox>& boxes, ErasingMode mode,
                       std::mt19937_64& rng);

// sample_random_erasing then erase_boxes: float [C, H, W] -> a new float [C, H, W] with the sampled boxes erased; the input is not modified.
// ShapeError unless `image` is a 3-d floating tensor; ConfigError for inconsistent options.
at::Tensor random_erasing(const at::Tensor& image, const RandomErasingOptions& options, std::mt19937_64& rng);

}  // namespace slipstream
