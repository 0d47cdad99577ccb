#include "slipstream/eval/model_preprocessing.h"

#include <cstdio>

namespace slipstream {

Preprocessing model_preprocessing(const VisionConfig& vision) {
  validate_preprocessing(vision, "vision");
  Preprocessing preprocessing;
  for (int c = 0; c < 3; ++c) {
    preprocessing.mean[c] = static_cast<float>(vision.image_mean[c]);
    preprocessing.std[c] = static_cast<float>(vision.image_std[c]);
  }
  preprocessing.interpolation = parse_resampling(vision.image_interpolation, "vision.image_interpolation");
  preprocessing.resize_mode = parse_resize_mode(vision.image_resize_mode, "vision.image_resize_mode");
  preprocessing.crop_fraction = vision.image_crop_fraction;
  return preprocessing;
}

std::string describe_preprocessing(const VisionConfig& v) {
  char text[256];
  std::snprintf(text, sizeof(text), "mean (%.4g, %.4g, %.4g), std (%.4g, %.4g, %.4g), %s, %s, crop fraction %.4g",
                v.image_mean[0], v.image_mean[1], v.image_mean[2], v.image_std[0], v.image_std[1], v.image_std[2],
                v.image_interpolation.c_str(), v.image_resize_mode.c_str(), v.image_crop_fraction);
  return text;
}

}  // namespace slipstream
