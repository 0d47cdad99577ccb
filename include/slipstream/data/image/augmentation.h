// SLIP's named view recipes, built from the PIL-exact transforms in torchvision's order:
//   clip           RandomResizedCrop(224, scale (0.5, 1)), ToTensor, Normalize
//   simclr         RandomResizedCrop(224, scale (0.08, 1)), RandomApply(ColorJitter(0.4, 0.4, 0.4, 0.1), p 0.8),
//                  RandomGrayscale(p 0.2), RandomApply(GaussianBlur(sigma U[0.1, 2]), p 0.5),
//                  RandomHorizontalFlip, ToTensor, Normalize
//   mocov2         as simclr with scale (0.2, 1) (DeCLIP's image views)
//   eval-zeroshot  Resize(224), CenterCrop(224), ToTensor, Normalize
//   eval-linear    Resize(256), CenterCrop(224), ToTensor, Normalize
//   linear-train   RandomResizedCrop(224, scale (0.08, 1)), RandomHorizontalFlip, ToTensor, Normalize
//                  (MoCo v3's linear-probe training view)
//   finetune       BEiT's finetuning train transform as SLIP runs it (timm create_transform, is_training):
//                  RandomResizedCrop(224, scale (0.08, 1), bicubic), RandomHorizontalFlip, RandAugment
//                  ("rand-m9-mstd0.5-inc1", ImageNet-mean fill, bicubic), ToTensor, Normalize,
//                  RandomErasing(p 0.25, 'pixel', count 1); the last three settable (FinetuneAugmentation)
// The model's Preprocessing (data/image/preprocessing.h) sets every recipe's mean/std and the
// evaluation recipes' interpolation and resize rule (eval-zeroshot: the model's crop fraction;
// eval-linear: 224/256, MoCo v3's protocol); --aug-cfg (ViewAugmentation) reshapes the clip view.
// A view is sampled (every random draw, from an RNG the caller seeds per sample) and then applied,
// so a test can replay the same parameters through torchvision.
#pragma once
#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "slipstream/data/image/geometric_transforms.h"
#include "slipstream/data/image/image.h"
#include "slipstream/data/image/preprocessing.h"
#include "slipstream/data/image/rand_augment.h"
#include "slipstream/data/image/random_erasing.h"
#include "slipstream/data/image/view_augmentation.h"

namespace slipstream {

enum class ViewRecipe { kClip, kSimclr, kMocoV2, kEvalZeroShot, kEvalLinear, kLinearTrain, kFinetune };
ViewRecipe parse_view_recipe(const std::string& name);  // the names above; ConfigError otherwise
std::string view_recipe_name(ViewRecipe recipe);
// The crop fraction of eval-linear (Resize(256), CenterCrop(224)).
constexpr double kLinearEvalCropFraction = 224.0 / 256.0;

// The settable parts of the finetune recipe (timm's auto_augment, re_prob and re_mode).
struct FinetuneAugmentation {
  std::string auto_augment = "rand-m9-mstd0.5-inc1";  // parse_rand_augment's config; "" = no RandAugment
  double random_erasing = 0.25;                        // probability; 0 = no RandomErasing
  std::string random_erasing_mode = "pixel";           // "pixel", "rand" or "const"
};

// Everything a view depends on besides its recipe and size.
struct ViewSettings {
  Preprocessing preprocessing;          // the model's (mean/std everywhere; resize rule for evaluation)
  ViewAugmentation clip;                // --aug-cfg over the clip recipe
  FinetuneAugmentation finetune;        // the finetune recipe's RandAugment / RandomErasing
};

// The training recipes: each view is a crop drawn at random (the evaluation recipes resize and
// centre-crop the whole image).
bool draws_random_crop(ViewRecipe recipe);
// The smallest share of the image a crop of this recipe covers (for reduced JPEG decoding).
double min_crop_scale(ViewRecipe recipe, const ViewSettings& settings = {});

// Every parameter one view was drawn with.
struct SampledView {
  CropBox crop;                                // random recipes: the RandomResizedCrop box
  int reduction = 1;                           // `crop` drawn on the full-size picture, cut from its 1/reduction decode
  bool jitter = false;                         // ColorJitter applied
  std::array<int, 4> jitter_order = {0, 1, 2, 3};  // 0 brightness, 1 contrast, 2 saturation, 3 hue
  double brightness = 1.0, contrast = 1.0, saturation = 1.0, hue = 0.0;
  bool grayscale = false;
  bool blur = false;
  double blur_sigma = 0.0;
  bool flip = false;
  std::vector<RandAugmentStep> rand_augment;  // finetune: the RandAugment draws
  std::vector<CropBox> erased;                // finetune: the RandomErasing boxes (on the [size, size] view)
  uint64_t erasing_seed = 0;                  // finetune: seeds the erased values' generator
};

// `settings.finetune` is read by the finetune recipe only (ConfigError for a bad auto_augment or
// erasing setting); the erasing boxes are drawn for a size x size view.
SampledView sample_view(ViewRecipe recipe, int64_t height, int64_t width, std::mt19937_64& rng,
                        const ViewSettings& settings = {}, int64_t size = 224);
// uint8 [H, W, 3] -> float [3, size, size], normalised with the preprocessing's mean and std.
at::Tensor apply_view(const Image& image, ViewRecipe recipe, const SampledView& view, int64_t size = 224,
                      const ViewSettings& settings = {});
at::Tensor make_view(const Image& image, ViewRecipe recipe, std::mt19937_64& rng, int64_t size = 224,
                     const ViewSettings& settings = {});

// The RNG of one sample's view: a hash of (seed, epoch, sample index, stream) so every draw is the
// same whatever thread or process handles the sample.
std::mt19937_64 sample_rng(uint64_t seed, uint64_t epoch, uint64_t index, uint64_t stream);

}  // namespace slipstream
