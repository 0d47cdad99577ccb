// timm's RandomErasing._erase on one normalised [C, H, W] image, drawing from a std::mt19937_64.
#include "slipstream/data/image/random_erasing.h"

#include <ATen/ATen.h>

#include <cmath>
#include <string>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

void check_options(const RandomErasingOptions& o) {
  if (!(o.probability >= 0.0 && o.probability <= 1.0)) {
    throw ConfigError("random erasing: probability must be in [0, 1], got " + std::to_string(o.probability));
  }
  if (!(o.min_area > 0.0 && o.min_area <= o.max_area && o.max_area <= 1.0)) {
    throw ConfigError("random erasing: need 0 < min_area <= max_area <= 1, got " + std::to_string(o.min_area) +
                      " and " + std::to_string(o.max_area));
  }
  if (!(o.min_aspect > 0.0 && o.min_aspect <= o.max_aspect && std::isfinite(o.max_aspect))) {
    throw ConfigError("random erasing: need 0 < min_aspect <= max_aspect, got " + std::to_string(o.min_aspect) +
                      " and " + std::to_string(o.max_aspect));
  }
  if (o.min_count < 1 || o.max_count < o.min_count) {
    throw ConfigError("random erasing: need 1 <= min_count <= max_count, got " + std::to_string(o.min_count) +
                      " and " + std::to_string(o.max_count));
  }
}

}  // namespace

ErasingMode parse_erasing_mode(const std::string& name) {
  if (name == "const") return ErasingMode::kConst;
  if (name == "rand") return ErasingMode::kRand;
  if (name == "pixel") return ErasingMode::kPixel;
  throw ConfigError("unknown random erasing mode '" + name + "' (expected const, rand or pixel)");
}

std::string erasing_mode_name(ErasingMode mode) {
  switch (mode) {
    case ErasingMode::kConst: return "const";
    case ErasingMode::kRand: return "rand";
    case ErasingMode::kPixel: return "pixel";
  }
  return "?";
}

std::vector<CropBox> sample_random_erasing(int64_t height, int64_t width, const RandomErasingOptions& options,
                                           std::mt19937_64& rng) {
  check_options(options);
  std::vector<CropBox> boxes;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  // `random.random() > probability` skips the image
  if (!(unit(rng) < options.probability)) return boxes;
  const double area = static_cast<double>(height * width);
  const int count = options.min_count == options.max_count
                        ? options.min_count
                        : std::uniform_int_distribution<int>(options.min_count, options.max_count)(rng);
  std::uniform_real_distribution<double> area_share(options.min_area, options.max_area);
  std::uniform_real_distribution<double> log_aspect(std::log(options.min_aspect), std::log(options.max_aspect));
  for (int box = 0; box < count; ++box) {
    for (int attempt = 0; attempt < 10; ++attempt) {
      const double target_area = area_share(rng) * area / count;
      const double aspect = std::exp(log_aspect(rng));
      const auto h = static_cast<int64_t>(std::nearbyint(std::sqrt(target_area * aspect)));  // round half to even
      const auto w = static_cast<int64_t>(std::nearbyint(std::sqrt(target_area / aspect)));
      if (w < width && h < height) {
        const int64_t top = std::uniform_int_distribution<int64_t>(0, height - h)(rng);
        const int64_t left = std::uniform_int_distribution<int64_t>(0, width - w)(rng);
        boxes.push_back({top, left, h, w});
        break;
      }
    }
  }
  return boxes;
}

namespace {

void check_chw(const at::Tensor& image, const char* where) {
  if (!image.defined() || image.dim() != 3 || !at::isFloatingType(image.scalar_type()) || !image.device().is_cpu()) {
    throw ShapeError(std::string(where) + ": expected a floating CPU [C, H, W] tensor");
  }
}

}  // namespace

at::Tensor erase_boxes(const at::Tensor& image, const std::vector<CropBox>& boxes, ErasingMode mode,
                       std::mt19937_64& rng) {
  check_chw(image, "erase_boxes");
  at::Tensor out = image.clone();
  const int64_t channels = image.size(0);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const CropBox& box : boxes) {
    if (box.top < 0 || box.left < 0 || box.height < 0 || box.width < 0 || box.top + box.height > image.size(1) ||
        box.left + box.width > image.size(2)) {
      throw ShapeError("erase_boxes: a box does not fit the " + std::to_string(image.size(1)) + "x" +
                       std::to_string(image.size(2)) + " image");
    }
    if (box.height == 0 || box.width == 0) continue;
    // [C, h, w] per element, [C, 1, 1] per channel, or zeros
    const int64_t values = mode == ErasingMode::kPixel ? channels * box.height * box.width : channels;
    at::Tensor fill = at::zeros({values}, at::kFloat);
    if (mode != ErasingMode::kConst) {
      float* f = fill.data_ptr<float>();
      for (int64_t i = 0; i < values; ++i) f[i] = normal(rng);
    }
    fill = mode == ErasingMode::kPixel ? fill.view({channels, box.height, box.width}) : fill.view({channels, 1, 1});
    out.slice(1, box.top, box.top + box.height).slice(2, box.left, box.left + box.width).copy_(fill);
  }
  return out;
}

at::Tensor random_erasing(const at::Tensor& image, const RandomErasingOptions& options, std::mt19937_64& rng) {
  check_chw(image, "random_erasing");
  return erase_boxes(image, sample_random_erasing(image.size(1), image.size(2), options, rng), options.mode, rng);
}

}  // namespace slipstream
