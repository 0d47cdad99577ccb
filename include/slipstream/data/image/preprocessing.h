// How a model wants its images: the normalisation statistics, the resampling filter and the
// evaluation resize rule. A model's config records them (vision.image_mean, ...; see
// models/model_config.h); SLIP's are the defaults, OpenAI's and open_clip's differ:
//   SLIP       ImageNet mean/std, bilinear, Resize(short side) + CenterCrop
//   OpenAI     mean (0.48145466, 0.4578275, 0.40821073), std (0.26862954, 0.26130258, 0.27577711),
//              bicubic, Resize(short side) + CenterCrop (open_clip's default, and transformers')
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "slipstream/data/image/geometric_transforms.h"
#include "slipstream/data/image/image.h"

namespace slipstream {

// open_clip's image_resize_mode: "shortest" (Resize(short side) then CenterCrop) or "squash"
// (Resize((size, size)), the aspect ratio not kept).
enum class ResizeMode { kShortest, kSquash };

struct Preprocessing {
  std::array<float, 3> mean = kImageNetMean;
  std::array<float, 3> std = kImageNetStd;
  Resampling interpolation = Resampling::kBilinear;  // the evaluation resize (and the finetune views: bicubic, timm's)
  ResizeMode resize_mode = ResizeMode::kShortest;
  double crop_fraction = 1.0;  // evaluation: the short side is resized to floor(size / crop_fraction) before the crop
};

// "bilinear" | "bicubic"; ConfigError naming `what` otherwise.
Resampling parse_resampling(const std::string& name, const std::string& what = "interpolation");
std::string resampling_name(Resampling resampling);
// "shortest" | "squash"; ConfigError naming `what` otherwise.
ResizeMode parse_resize_mode(const std::string& name, const std::string& what = "resize mode");
std::string resize_mode_name(ResizeMode mode);

// The evaluation transform without normalisation: uint8 [H, W, 3] -> uint8 [size, size, 3].
//   shortest: Resize(floor(size / crop_fraction), interpolation), CenterCrop(size)
//   squash:   Resize((s, s), interpolation) with s = floor(size / crop_fraction), CenterCrop(size)
Image evaluation_resize(const Image& image, int64_t size, const Preprocessing& preprocessing, double crop_fraction);

// The side an image is resized to before the centre crop (at least `size`).
int64_t resize_target(int64_t size, double crop_fraction);

}  // namespace slipstream
