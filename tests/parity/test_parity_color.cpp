// Colour and blur parity: slipstream's color_transforms against torchvision's PIL path and Pillow
// (ImageEnhance, convert, ImageFilter.GaussianBlur) on the references make_color_references.py writes.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "slipstream/core/safetensors.h"
#include "slipstream/data/image/color_transforms.h"

namespace slipstream {
namespace {

const SafetensorsFile& references() {
  static const SafetensorsFile file = load_safetensors(std::string(SLIPSTREAM_COLOR_PARITY_DIR) +
                                                       "/color_references.safetensors");
  return file;
}

const at::Tensor& reference(const std::string& name) {
  const auto& tensors = references().tensors;
  const auto it = tensors.find(name);
  if (it == tensors.end()) throw std::runtime_error("color_references.safetensors has no tensor " + name);
  return it->second;
}

struct Difference {
  double mae = 0;  // mean |actual - expected| over all values, in 1/255 units
  int max = 0;     // largest |actual - expected|
};

// Compares two uint8 [H, W, 3] images value by value and prints the "[parity]" line.
Difference compare(const std::string& what, const Image& actual, const at::Tensor& expected) {
  EXPECT_EQ(actual.sizes(), expected.sizes()) << what;
  if (actual.sizes() != expected.sizes()) return {1e9, 255};
  const at::Tensor want = expected.contiguous();
  const uint8_t* a = actual.data_ptr<uint8_t>();
  const uint8_t* b = want.data_ptr<uint8_t>();
  const int64_t n = actual.numel();
  int64_t sum = 0;
  Difference d;
  for (int64_t i = 0; i < n; ++i) {
    const int diff = std::abs(static_cast<int>(a[i]) - static_cast<int>(b[i]));
    sum += diff;
    d.max = std::max(d.max, diff);
  }
  d.mae = static_cast<double>(sum) / static_cast<double>(n);
  std::printf("[parity] %-40s MAE %.4f/255, max |diff| %d\n", what.c_str(), d.mae, d.max);
  return d;
}

// Every op below reproduces Pillow's arithmetic step for step, so every comparison asserts exact
// equality (max |diff| 0), which is stricter than the MAE <= 1/255 the transforms need.
void expect_exact(const std::string& name, const std::string& what, const std::function<Image(const Image&)>& op,
                  const std::string& input = "input") {
  const Difference d = compare(what, op(reference(input)), reference(name));
  EXPECT_EQ(d.max, 0) << what << ": MAE " << d.mae << "/255";
}

std::string label(const char* op, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%s(%g)", op, value);
  return buffer;
}

std::string key(const char* op, const char* value) { return std::string(op) + "_" + value; }

TEST(ParityColor, InputIsTheSyntheticPhoto) {
  const at::Tensor& input = reference("input");
  ASSERT_EQ(input.dim(), 3);
  EXPECT_EQ(input.size(0), 96);
  EXPECT_EQ(input.size(1), 128);
  EXPECT_EQ(input.size(2), 3);
  EXPECT_EQ(input.scalar_type(), at::kByte);
}

// Factors as the Python side formats them (str(float)).
constexpr const char* kFactors[] = {"0.6", "1.0", "1.4"};
constexpr const char* kHues[] = {"-0.1", "0.05", "0.1"};
constexpr const char* kSigmas[] = {"0.1", "0.7", "2.0"};

TEST(ParityColor, BrightnessEqualsImageEnhanceBrightness) {
  for (const char* f : kFactors) {
    const double factor = std::atof(f);
    expect_exact(key("brightness", f), label("adjust_brightness", factor),
                 [&](const Image& im) { return adjust_brightness(im, factor); });
  }
}

TEST(ParityColor, ContrastEqualsImageEnhanceContrast) {
  for (const char* f : kFactors) {
    const double factor = std::atof(f);
    expect_exact(key("contrast", f), label("adjust_contrast", factor),
                 [&](const Image& im) { return adjust_contrast(im, factor); });
  }
}

TEST(ParityColor, SaturationEqualsImageEnhanceColor) {
  for (const char* f : kFactors) {
    const double factor = std::atof(f);
    expect_exact(key("saturation", f), label("adjust_saturation", factor),
                 [&](const Image& im) { return adjust_saturation(im, factor); });
  }
}

TEST(ParityColor, HueEqualsTorchvisionPilAdjustHue) {
  for (const char* h : kHues) {
    const double hue = std::atof(h);
    expect_exact(key("hue", h), label("adjust_hue", hue), [&](const Image& im) { return adjust_hue(im, hue); });
  }
}

TEST(ParityColor, GrayscaleEqualsConvertL) {
  expect_exact("grayscale", "to_grayscale_rgb", [](const Image& im) { return to_grayscale_rgb(im); });
}

// sigma 0.1 gives Pillow's own output equal to the input (fractional weights below the 8.24 rounding);
// sigma 0.3 in EdgeCasesEqualPillow is the small radius that changes pixels.
TEST(ParityColor, GaussianBlurEqualsImageFilterGaussianBlur) {
  for (const char* s : kSigmas) {
    const double sigma = std::atof(s);
    expect_exact(key("blur", s), label("gaussian_blur", sigma),
                 [&](const Image& im) { return gaussian_blur(im, sigma); });
  }
}

// Beyond SLIP's ranges: the factor-0 shortcut, clipping at 2.5, a fractional radius below 1, and
// box radii larger than a 5x7 image (Pillow's edgeA > edgeB branch).
TEST(ParityColor, EdgeCasesEqualPillow) {
  for (const char* f : {"0.0", "2.5"}) {
    const double factor = std::atof(f);
    expect_exact(key("brightness", f), label("adjust_brightness", factor),
                 [&](const Image& im) { return adjust_brightness(im, factor); });
    expect_exact(key("contrast", f), label("adjust_contrast", factor),
                 [&](const Image& im) { return adjust_contrast(im, factor); });
    expect_exact(key("saturation", f), label("adjust_saturation", factor),
                 [&](const Image& im) { return adjust_saturation(im, factor); });
  }
  expect_exact("blur_0.3", label("gaussian_blur", 0.3), [](const Image& im) { return gaussian_blur(im, 0.3); });
  for (const char* s : {"1.0", "3.0", "10.0"}) {
    const double sigma = std::atof(s);
    expect_exact(key("small_blur", s), label("gaussian_blur", sigma) + " on 5x7",
                 [&](const Image& im) { return gaussian_blur(im, sigma); }, "small_input");
  }
}

}  // namespace
}  // namespace slipstream
