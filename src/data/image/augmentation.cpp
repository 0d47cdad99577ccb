#include "slipstream/data/image/augmentation.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "slipstream/core/error.h"
#include "slipstream/data/image/color_transforms.h"

namespace slipstream {
namespace {

constexpr std::pair<double, double> kAspectRatio = {3.0 / 4.0, 4.0 / 3.0};

bool has_ssl_augmentations(ViewRecipe recipe) { return recipe == ViewRecipe::kSimclr || recipe == ViewRecipe::kMocoV2; }

// timm's RandomErasing(re_prob, mode=re_mode, max_count=1) with its other defaults.
RandomErasingOptions erasing_options(const FinetuneAugmentation& finetune) {
  RandomErasingOptions options;
  options.probability = finetune.random_erasing;
  options.mode = parse_erasing_mode(finetune.random_erasing_mode);
  return options;
}

// SimCLR's ColorJitter(0.4, 0.4, 0.4, 0.1).
constexpr std::array<double, 4> kSslJitter = {0.4, 0.4, 0.4, 0.1};

// ColorJitter.get_params: the order of the four operations, then each factor, brightness,
// contrast and saturation in [max(0, 1 - s), 1 + s], hue in [-s, s].
void sample_jitter(const std::array<double, 4>& strength, SampledView& view, std::mt19937_64& rng) {
  std::shuffle(view.jitter_order.begin(), view.jitter_order.end(), rng);
  auto factor = [&](double s) { return std::uniform_real_distribution<double>(std::max(0.0, 1.0 - s), 1.0 + s)(rng); };
  view.brightness = factor(strength[0]);
  view.contrast = factor(strength[1]);
  view.saturation = factor(strength[2]);
  view.hue = std::uniform_real_distribution<double>(-strength[3], strength[3])(rng);
}

// SLIP's CLIP view, reshaped by --aug-cfg as open_clip's train transform is: RandomResizedCrop,
// RandomApply(ColorJitter, color_jitter_prob), RandomGrayscale(gray_scale_prob).
SampledView sample_clip_view(int64_t height, int64_t width, const ViewAugmentation& augmentation, std::mt19937_64& rng) {
  SampledView view;
  view.crop = sample_resized_crop(height, width, augmentation.scale.value_or(std::pair<double, double>{0.5, 1.0}),
                                  augmentation.ratio.value_or(kAspectRatio), rng);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  if (augmentation.color_jitter_prob > 0) {
    view.jitter = unit(rng) < augmentation.color_jitter_prob;
    if (view.jitter) sample_jitter(augmentation.color_jitter, view, rng);
  }
  if (augmentation.gray_scale_prob > 0) view.grayscale = unit(rng) < augmentation.gray_scale_prob;
  return view;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

ViewRecipe parse_view_recipe(const std::string& name) {
  if (name == "clip") return ViewRecipe::kClip;
  if (name == "simclr") return ViewRecipe::kSimclr;
  if (name == "mocov2") return ViewRecipe::kMocoV2;
  if (name == "eval-zeroshot") return ViewRecipe::kEvalZeroShot;
  if (name == "eval-linear") return ViewRecipe::kEvalLinear;
  if (name == "linear-train") return ViewRecipe::kLinearTrain;
  if (name == "finetune") return ViewRecipe::kFinetune;
  throw ConfigError("unknown view recipe '" + name +
                    "' (expected clip, simclr, mocov2, eval-zeroshot, eval-linear, linear-train or finetune)");
}

std::string view_recipe_name(ViewRecipe recipe) {
  switch (recipe) {
    case ViewRecipe::kClip: return "clip";
    case ViewRecipe::kSimclr: return "simclr";
    case ViewRecipe::kMocoV2: return "mocov2";
    case ViewRecipe::kEvalZeroShot: return "eval-zeroshot";
    case ViewRecipe::kEvalLinear: return "eval-linear";
    case ViewRecipe::kLinearTrain: return "linear-train";
    case ViewRecipe::kFinetune: return "finetune";
  }
  return "?";
}

bool draws_random_crop(ViewRecipe recipe) { return recipe != ViewRecipe::kEvalZeroShot && recipe != ViewRecipe::kEvalLinear; }

double min_crop_scale(ViewRecipe recipe, const ViewSettings& settings) {
  switch (recipe) {
    case ViewRecipe::kClip: return settings.clip.scale ? settings.clip.scale->first : 0.5;
    case ViewRecipe::kSimclr:
    case ViewRecipe::kLinearTrain:
    case ViewRecipe::kFinetune: return 0.08;
    case ViewRecipe::kMocoV2: return 0.2;
    default: return 1.0;
  }
}

SampledView sample_view(ViewRecipe recipe, int64_t height, int64_t width, std::mt19937_64& rng,
                        const ViewSettings& settings, int64_t size) {
  SampledView view;
  if (!draws_random_crop(recipe)) return view;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  if (recipe == ViewRecipe::kClip) return sample_clip_view(height, width, settings.clip, rng);
  view.crop = sample_resized_crop(height, width, {min_crop_scale(recipe), 1.0}, kAspectRatio, rng);
  const FinetuneAugmentation& finetune = settings.finetune;
  if (recipe == ViewRecipe::kLinearTrain || recipe == ViewRecipe::kFinetune) view.flip = unit(rng) < 0.5;
  if (recipe == ViewRecipe::kFinetune) {
    if (!finetune.auto_augment.empty()) {
      view.rand_augment = sample_rand_augment(parse_rand_augment(finetune.auto_augment), rng);
    }
    const RandomErasingOptions erasing = erasing_options(finetune);
    if (erasing.probability > 0) {
      view.erased = sample_random_erasing(size, size, erasing, rng);
      if (!view.erased.empty()) view.erasing_seed = rng();
    }
    return view;
  }
  if (!has_ssl_augmentations(recipe)) return view;
  // RandomApply(ColorJitter, p=0.8): ColorJitter.get_params draws the order and all four factors.
  view.jitter = unit(rng) < 0.8;
  if (view.jitter) sample_jitter(kSslJitter, view, rng);
  view.grayscale = unit(rng) < 0.2;
  view.blur = unit(rng) < 0.5;
  if (view.blur) view.blur_sigma = std::uniform_real_distribution<double>(0.1, 2.0)(rng);
  view.flip = unit(rng) < 0.5;
  return view;
}

at::Tensor apply_view(const Image& image, ViewRecipe recipe, const SampledView& view, int64_t size,
                      const ViewSettings& settings) {
  check_image(image, "apply_view");
  const Preprocessing& preprocessing = settings.preprocessing;
  const auto normalized = [&](const Image& out) { return to_normalized_chw(out, preprocessing.mean, preprocessing.std); };
  if (recipe == ViewRecipe::kEvalZeroShot) {
    return normalized(evaluation_resize(image, size, preprocessing, preprocessing.crop_fraction));  // [3, size, size]
  }
  if (recipe == ViewRecipe::kEvalLinear) {
    return normalized(evaluation_resize(image, size, preprocessing, kLinearEvalCropFraction));  // [3, size, size]
  }
  const FinetuneAugmentation& finetune = settings.finetune;
  if (recipe == ViewRecipe::kFinetune) {
    Image out = resized_crop_reduced(image, view.crop, view.reduction, size, size, Resampling::kBicubic);  // [size, size, 3]
    if (view.flip) out = horizontal_flip(out);
    if (!view.rand_augment.empty()) {
      out = apply_rand_augment(out, view.rand_augment, parse_rand_augment(finetune.auto_augment));
    }
    at::Tensor chw = normalized(out);  // [3, size, size]
    if (view.erased.empty()) return chw;
    std::mt19937_64 values(view.erasing_seed);
    return erase_boxes(chw, view.erased, erasing_options(finetune).mode, values);
  }
  const Resampling crop_filter = recipe == ViewRecipe::kClip && settings.clip.interpolation
                                    ? *settings.clip.interpolation
                                    : Resampling::kBilinear;
  // the crop drawn on the full-size picture, cut from the image or its reduced decode
  Image out = resized_crop_reduced(image, view.crop, view.reduction, size, size, crop_filter);  // [size, size, 3]
  if (view.jitter) {
    // torchvision's ColorJitter skips a factor whose range is empty (the parameter 0)
    const std::array<double, 4>& strength = recipe == ViewRecipe::kClip ? settings.clip.color_jitter : kSslJitter;
    for (int op : view.jitter_order) {
      if (strength[op] == 0.0) continue;
      switch (op) {
        case 0: out = adjust_brightness(out, view.brightness); break;
        case 1: out = adjust_contrast(out, view.contrast); break;
        case 2: out = adjust_saturation(out, view.saturation); break;
        default: out = adjust_hue(out, view.hue); break;
      }
    }
  }
  if (view.grayscale) out = to_grayscale_rgb(out);
  if (view.blur) out = gaussian_blur(out, view.blur_sigma);
  if (view.flip) out = horizontal_flip(out);
  return normalized(out);  // [3, size, size]
}

at::Tensor make_view(const Image& image, ViewRecipe recipe, std::mt19937_64& rng, int64_t size,
                     const ViewSettings& settings) {
  check_image(image, "make_view");
  return apply_view(image, recipe, sample_view(recipe, image.size(0), image.size(1), rng, settings, size), size,
                    settings);
}

std::mt19937_64 sample_rng(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t stream) {
  uint64_t state = splitmix64(seed);
  state = splitmix64(state ^ epoch);
  state = splitmix64(state ^ index);
  state = splitmix64(state ^ stream);
  return std::mt19937_64(state);
}

}  // namespace slipstream
