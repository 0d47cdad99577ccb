// timm's RandAugment (timm.data.auto_augment.rand_augment_transform), as BEiT / SLIP's finetuning
// recipe uses it ("rand-m9-mstd0.5-inc1"): num_ops ops drawn uniformly with replacement from the
// 15-op set (_RAND_INCREASING_TRANSFORMS, or _RAND_TRANSFORMS without "inc1"), each applied with
// `probability`, at a magnitude drawn from N(magnitude, magnitude_std) clipped to [0, magnitude_max]
// per application, signed ops negated with probability 1/2 (timm's _randomly_negate). Every op
// equals timm's op function on a PIL image byte for byte (image_ops.h, color_transforms.h,
// affine_transform.h); the random draws come from a std::mt19937_64, not Python's `random`.
#pragma once
#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "slipstream/data/image/affine_transform.h"
#include "slipstream/data/image/geometric_transforms.h"
#include "slipstream/data/image/image.h"

namespace slipstream {

// The op set, in timm's order. With `increasing` the five level-dependent ops are timm's
// *Increasing variants (PosterizeIncreasing, SolarizeIncreasing, ColorIncreasing, ...).
enum class RandAugmentOp {
  kAutoContrast, kEqualize, kInvert, kRotate, kPosterize, kSolarize, kSolarizeAdd, kColor, kContrast,
  kBrightness, kSharpness, kShearX, kShearY, kTranslateXRel, kTranslateYRel
};
constexpr int kRandAugmentOpCount = 15;
// timm's name of the op ("PosterizeIncreasing" when increasing, ...).
std::string rand_augment_op_name(RandAugmentOp op, bool increasing);
// Whether the op's level function draws a random sign (Rotate, Shear*, Translate*Rel, and the
// enhance ops when increasing).
bool rand_augment_op_is_signed(RandAugmentOp op, bool increasing);

struct RandAugmentOptions {
  int num_ops = 2;              // "n": ops per image
  double magnitude = 9;         // "m": level on timm's 0-10 scale
  double magnitude_std = 0.5;   // "mstd": Gaussian noise on the magnitude; infinity: uniform in [0, magnitude]
  double magnitude_max = 10;    // "mmax": upper clip of the sampled magnitude
  double probability = 0.5;     // "p": chance that each drawn op is applied
  bool increasing = true;       // "inc": the *Increasing op variants
  Fill fill = {124, 116, 104};  // hparams img_mean: ImageNet mean * 255, where geometric ops expose nothing
  double translate_pct = 0.45;  // hparams translate_pct: TranslateXRel/YRel shift at magnitude 10, of the size
  Resampling resampling = Resampling::kBicubic;  // hparams interpolation of rotate / shear / translate
};

// timm's config string: "rand" then dash-separated sections m<int>, n<int>, mstd<float> (> 100:
// uniform), mmax<int>, inc<0|1>, p<float>, in any order; sections not given take timm's defaults
// (m 10, n 2, mstd 0, mmax 10, inc 0, p 0.5), the rest of the options theirs. ConfigError naming the
// bad part for anything else (timm's "t" transform-set section included).
RandAugmentOptions parse_rand_augment(const std::string& spec);

// One op exactly as timm applies it at this (already clipped) magnitude: the level function
// (negated first when `negate` and the op is signed), then the op on the image. [H, W, 3] -> [H, W, 3].
Image apply_rand_augment_op(const Image& image, RandAugmentOp op, double magnitude, bool negate,
                            const RandAugmentOptions& options);

// The draws of one image: the chosen ops in order, and for each whether it applies, its magnitude
// and its sign.
struct RandAugmentStep {
  RandAugmentOp op = RandAugmentOp::kAutoContrast;
  bool applied = false;
  double magnitude = 0;
  bool negate = false;
};
std::vector<RandAugmentStep> sample_rand_augment(const RandAugmentOptions& options, std::mt19937_64& rng);
Image apply_rand_augment(const Image& image, const std::vector<RandAugmentStep>& steps,
                         const RandAugmentOptions& options);
// sample_rand_augment then apply_rand_augment. [H, W, 3] -> [H, W, 3].
Image rand_augment(const Image& image, const RandAugmentOptions& options, std::mt19937_64& rng);

}  // namespace slipstream
