#include "slipstream/data/image/preprocessing.h"

#include <cmath>

#include "slipstream/core/error.h"

namespace slipstream {

Resampling parse_resampling(const std::string& name, const std::string& what) {
  if (name == "bilinear") return Resampling::kBilinear;
  if (name == "bicubic") return Resampling::kBicubic;
  throw ConfigError(what + ": unknown interpolation '" + name + "' (expected bilinear or bicubic)");
}

std::string resampling_name(Resampling resampling) {
  return resampling == Resampling::kBicubic ? "bicubic" : "bilinear";
}

ResizeMode parse_resize_mode(const std::string& name, const std::string& what) {
  if (name == "shortest") return ResizeMode::kShortest;
  if (name == "squash") return ResizeMode::kSquash;
  throw ConfigError(what + ": unknown resize mode '" + name + "' (expected shortest or squash)");
}

std::string resize_mode_name(ResizeMode mode) { return mode == ResizeMode::kSquash ? "squash" : "shortest"; }

int64_t resize_target(int64_t size, double crop_fraction) {
  if (!(crop_fraction > 0.0 && crop_fraction <= 1.0)) {
    throw ConfigError("crop fraction must be in (0, 1], got " + std::to_string(crop_fraction));
  }
  // timm's math.floor(img_size / crop_pct); 1e-9 keeps 224 / (224 / 256) at 256
  return static_cast<int64_t>(std::floor(static_cast<double>(size) / crop_fraction + 1e-9));
}

Image evaluation_resize(const Image& image, int64_t size, const Preprocessing& preprocessing, double crop_fraction) {
  const int64_t target = resize_target(size, crop_fraction);
  const Image resized = preprocessing.resize_mode == ResizeMode::kSquash
                            ? resize(image, target, target, preprocessing.interpolation)
                            : resize_short_side(image, target, preprocessing.interpolation);
  return center_crop(resized, size);  // [size, size, 3]
}

}  // namespace slipstream
