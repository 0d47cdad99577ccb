// timm's RandAugment: rand_augment_transform's config parsing, AugmentOp's draws and level
// functions, and the op functions of timm/data/auto_augment.py on slipstream's Pillow-exact ops.
#include "slipstream/data/image/rand_augment.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "slipstream/core/error.h"
#include "slipstream/data/image/color_transforms.h"
#include "slipstream/data/image/image_ops.h"

namespace slipstream {
namespace {

constexpr double kLevelDenominator = 10.0;  // timm's _LEVEL_DENOM

void check_options(const RandAugmentOptions& o) {
  if (o.num_ops < 0) throw ConfigError("RandAugment: num_ops must be >= 0, got " + std::to_string(o.num_ops));
  if (!(o.probability >= 0.0 && o.probability <= 1.0)) {
    throw ConfigError("RandAugment: probability must be in [0, 1], got " + std::to_string(o.probability));
  }
  if (!(o.magnitude_std >= 0.0)) {
    throw ConfigError("RandAugment: magnitude_std must be >= 0, got " + std::to_string(o.magnitude_std));
  }
  if (!std::isfinite(o.magnitude) || !std::isfinite(o.magnitude_max) || !(o.magnitude_max >= 0.0)) {
    throw ConfigError("RandAugment: magnitude and magnitude_max must be finite, magnitude_max >= 0");
  }
}

// Python's int() of a float: truncation toward zero.
int truncate(double v) { return static_cast<int>(v); }

// Parses all of `text` as a number, or throws ConfigError naming the section.
double parse_number(const std::string& text, const std::string& section, const std::string& spec, bool integer) {
  size_t used = 0;
  double value = 0;
  try {
    value = integer ? static_cast<double>(std::stoi(text, &used)) : std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) {
    throw ConfigError("RandAugment config '" + spec + "': section '" + section + "' needs " +
                      (integer ? "an integer" : "a number") + " after its key");
  }
  return value;
}

}  // namespace

std::string rand_augment_op_name(RandAugmentOp op, bool increasing) {
  const std::string suffix = increasing ? "Increasing" : "";
  switch (op) {
    case RandAugmentOp::kAutoContrast: return "AutoContrast";
    case RandAugmentOp::kEqualize: return "Equalize";
    case RandAugmentOp::kInvert: return "Invert";
    case RandAugmentOp::kRotate: return "Rotate";
    case RandAugmentOp::kPosterize: return "Posterize" + suffix;
    case RandAugmentOp::kSolarize: return "Solarize" + suffix;
    case RandAugmentOp::kSolarizeAdd: return "SolarizeAdd";
    case RandAugmentOp::kColor: return "Color" + suffix;
    case RandAugmentOp::kContrast: return "Contrast" + suffix;
    case RandAugmentOp::kBrightness: return "Brightness" + suffix;
    case RandAugmentOp::kSharpness: return "Sharpness" + suffix;
    case RandAugmentOp::kShearX: return "ShearX";
    case RandAugmentOp::kShearY: return "ShearY";
    case RandAugmentOp::kTranslateXRel: return "TranslateXRel";
    case RandAugmentOp::kTranslateYRel: return "TranslateYRel";
  }
  return "?";
}

bool rand_augment_op_is_signed(RandAugmentOp op, bool increasing) {
  switch (op) {
    case RandAugmentOp::kRotate:
    case RandAugmentOp::kShearX:
    case RandAugmentOp::kShearY:
    case RandAugmentOp::kTranslateXRel:
    case RandAugmentOp::kTranslateYRel: return true;
    case RandAugmentOp::kColor:
    case RandAugmentOp::kContrast:
    case RandAugmentOp::kBrightness:
    case RandAugmentOp::kSharpness: return increasing;  // _enhance_increasing_level_to_arg negates
    default: return false;
  }
}

RandAugmentOptions parse_rand_augment(const std::string& spec) {
  RandAugmentOptions o;
  // rand_augment_transform's defaults for what the string does not set.
  o.num_ops = 2;
  o.magnitude = kLevelDenominator;
  o.magnitude_std = 0.0;
  o.magnitude_max = kLevelDenominator;
  o.probability = 0.5;
  o.increasing = false;
  std::vector<std::string> sections;
  size_t start = 0;
  while (true) {
    const size_t dash = spec.find('-', start);
    sections.push_back(spec.substr(start, dash == std::string::npos ? std::string::npos : dash - start));
    if (dash == std::string::npos) break;
    start = dash + 1;
  }
  if (sections[0] != "rand") {
    throw ConfigError("RandAugment config '" + spec + "': must start with 'rand', got '" + sections[0] + "'");
  }
  for (size_t i = 1; i < sections.size(); ++i) {
    const std::string& section = sections[i];
    // re.split(r'(\d.*)', section): the key is everything before the first digit
    const size_t digit = section.find_first_of("0123456789");
    const std::string key = section.substr(0, digit);
    const std::string value = digit == std::string::npos ? "" : section.substr(digit);
    if (key == "mstd") {
      const double mstd = parse_number(value, section, spec, false);
      if (mstd < 0) throw ConfigError("RandAugment config '" + spec + "': section '" + section + "' must be >= 0");
      o.magnitude_std = mstd > 100 ? std::numeric_limits<double>::infinity() : mstd;
    } else if (key == "mmax") {
      o.magnitude_max = parse_number(value, section, spec, true);
      if (o.magnitude_max == 0) o.magnitude_max = kLevelDenominator;  // `magnitude_max or _LEVEL_DENOM`
    } else if (key == "inc") {
      o.increasing = parse_number(value, section, spec, true) != 0;
    } else if (key == "m") {
      o.magnitude = parse_number(value, section, spec, true);
    } else if (key == "n") {
      o.num_ops = static_cast<int>(parse_number(value, section, spec, true));
    } else if (key == "p") {
      o.probability = parse_number(value, section, spec, false);
    } else {
      throw ConfigError("RandAugment config '" + spec + "': unknown section '" + section +
                        "' (expected m<int>, n<int>, mstd<float>, mmax<int>, inc<0|1> or p<float>)");
    }
  }
  try {
    check_options(o);
  } catch (const ConfigError& e) {
    throw ConfigError("RandAugment config '" + spec + "': " + e.what());
  }
  return o;
}

Image apply_rand_augment_op(const Image& image, RandAugmentOp op, double magnitude, bool negate,
                            const RandAugmentOptions& options) {
  check_image(image, "apply_rand_augment_op");
  const double level = magnitude / kLevelDenominator;
  const double sign = negate && rand_augment_op_is_signed(op, options.increasing) ? -1.0 : 1.0;
  // The enhance ops: _enhance_increasing_level_to_arg or _enhance_level_to_arg.
  const double enhance = options.increasing ? std::max(0.1, 1.0 + sign * (level * .9)) : level * 1.8 + 0.1;
  const int64_t height = image.size(0), width = image.size(1);
  switch (op) {
    case RandAugmentOp::kAutoContrast: return autocontrast(image);
    case RandAugmentOp::kEqualize: return equalize(image);
    case RandAugmentOp::kInvert: return invert(image);
    case RandAugmentOp::kRotate: return rotate(image, sign * (level * 30.), options.resampling, options.fill);
    case RandAugmentOp::kPosterize: {
      const int bits = options.increasing ? 4 - truncate(level * 4) : truncate(level * 4);
      return bits >= 8 ? image.clone() : posterize(image, std::max(bits, 0));
    }
    case RandAugmentOp::kSolarize: {
      const int threshold = std::min(256, truncate(level * 256));
      return solarize(image, options.increasing ? 256 - threshold : threshold);
    }
    case RandAugmentOp::kSolarizeAdd: return solarize_add(image, std::min(128, truncate(level * 110)), 128);
    case RandAugmentOp::kColor: return adjust_saturation(image, enhance);
    case RandAugmentOp::kContrast: return adjust_contrast(image, enhance);
    case RandAugmentOp::kBrightness: return adjust_brightness(image, enhance);
    case RandAugmentOp::kSharpness: return adjust_sharpness(image, enhance);
    case RandAugmentOp::kShearX:
      return affine_transform(image, {1, sign * (level * 0.3), 0, 0, 1, 0}, options.resampling, options.fill);
    case RandAugmentOp::kShearY:
      return affine_transform(image, {1, 0, 0, sign * (level * 0.3), 1, 0}, options.resampling, options.fill);
    case RandAugmentOp::kTranslateXRel: {
      const double pixels = sign * (level * options.translate_pct) * static_cast<double>(width);
      return affine_transform(image, {1, 0, pixels, 0, 1, 0}, options.resampling, options.fill);
    }
    case RandAugmentOp::kTranslateYRel: {
      const double pixels = sign * (level * options.translate_pct) * static_cast<double>(height);
      return affine_transform(image, {1, 0, 0, 0, 1, pixels}, options.resampling, options.fill);
    }
  }
  throw ConfigError("apply_rand_augment_op: unknown op " + std::to_string(static_cast<int>(op)));
}

std::vector<RandAugmentStep> sample_rand_augment(const RandAugmentOptions& options, std::mt19937_64& rng) {
  check_options(options);
  std::uniform_int_distribution<int> choice(0, kRandAugmentOpCount - 1);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  // np.random.choice(ops, n, replace=True): all ops first, then each AugmentOp's own draws.
  std::vector<RandAugmentStep> steps(static_cast<size_t>(options.num_ops));
  for (RandAugmentStep& step : steps) step.op = static_cast<RandAugmentOp>(choice(rng));
  for (RandAugmentStep& step : steps) {
    // `random.random() > prob` skips the op; drawn only when prob < 1
    step.applied = options.probability >= 1.0 || unit(rng) < options.probability;
    if (!step.applied) continue;
    double magnitude = options.magnitude;
    if (std::isinf(options.magnitude_std)) {
      magnitude = std::uniform_real_distribution<double>(0.0, magnitude)(rng);
    } else if (options.magnitude_std > 0) {
      magnitude = std::normal_distribution<double>(magnitude, options.magnitude_std)(rng);
    }
    step.magnitude = std::max(0.0, std::min(magnitude, options.magnitude_max));
    // _randomly_negate: `-v if random.random() > 0.5 else v`
    if (rand_augment_op_is_signed(step.op, options.increasing)) step.negate = unit(rng) > 0.5;
  }
  return steps;
}

Image apply_rand_augment(const Image& image, const std::vector<RandAugmentStep>& steps,
                         const RandAugmentOptions& options) {
  check_image(image, "apply_rand_augment");
  Image out = image;
  for (const RandAugmentStep& step : steps) {
    if (step.applied) out = apply_rand_augment_op(out, step.op, step.magnitude, step.negate, options);
  }
  return out.is_same(image) ? image.clone() : out;
}

Image rand_augment(const Image& image, const RandAugmentOptions& options, std::mt19937_64& rng) {
  check_image(image, "rand_augment");
  return apply_rand_augment(image, sample_rand_augment(options, rng), options);
}

}  // namespace slipstream
