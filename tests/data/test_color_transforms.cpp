// color_transforms: identities, grayscale structure, blur of flat images, extrapolation clipping,
// and errors for bad shapes and parameters.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>

#include "slipstream/core/error.h"
#include "slipstream/data/image/color_transforms.h"

namespace slipstream {
namespace {

Image random_image(int64_t height = 23, int64_t width = 31, uint64_t seed = 7) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randint(0, 256, {height, width, 3}, gen, at::kByte).contiguous();
}

int max_abs_diff(const Image& a, const Image& b) {
  return (a.to(at::kInt) - b.to(at::kInt)).abs().max().item<int>();
}

TEST(ColorTransforms, FactorOneIsIdentity) {
  const Image image = random_image();
  EXPECT_TRUE(at::equal(adjust_brightness(image, 1.0), image));
  EXPECT_TRUE(at::equal(adjust_contrast(image, 1.0), image));
  EXPECT_TRUE(at::equal(adjust_saturation(image, 1.0), image));
  EXPECT_TRUE(at::equal(gaussian_blur(image, 0.0), image));
}

TEST(ColorTransforms, ResultIsANewImage) {
  const Image image = random_image();
  const Image copy = image.clone();
  Image out = adjust_brightness(image, 1.0);
  out.fill_(0);
  EXPECT_TRUE(at::equal(image, copy));
}

TEST(ColorTransforms, FactorZeroGivesTheDegenerateImage) {
  const Image image = random_image();
  EXPECT_EQ(adjust_brightness(image, 0.0).max().item<int>(), 0);
  EXPECT_TRUE(at::equal(adjust_saturation(image, 0.0), to_grayscale_rgb(image)));
  const Image grey = adjust_contrast(image, 0.0);
  EXPECT_EQ(grey.min().item<int>(), grey.max().item<int>());
}

TEST(ColorTransforms, BrightnessTruncatesInsideAndClipsOutside) {
  Image image = at::full({1, 4, 3}, 0, at::kByte);
  auto* p = image.data_ptr<uint8_t>();
  const uint8_t values[] = {1, 100, 200, 255};
  for (int i = 0; i < 4; ++i) p[3 * i] = p[3 * i + 1] = p[3 * i + 2] = values[i];
  const Image half = adjust_brightness(image, 0.5);
  const auto* h = half.data_ptr<uint8_t>();
  EXPECT_EQ(h[0], 0);    // 0.5 truncated
  EXPECT_EQ(h[3], 50);
  EXPECT_EQ(h[6], 100);
  EXPECT_EQ(h[9], 127);  // 127.5 truncated
  const Image bright = adjust_brightness(image, 1.5);
  const auto* b = bright.data_ptr<uint8_t>();
  EXPECT_EQ(b[0], 1);    // 1.5 truncated
  EXPECT_EQ(b[3], 150);
  EXPECT_EQ(b[6], 255);  // 300 clipped
  EXPECT_EQ(b[9], 255);
}

TEST(ColorTransforms, HueZeroIsIdentityUpToHsvRoundTrip) {
  const Image image = random_image(40, 40, 11);
  const Image out = adjust_hue(image, 0.0);
  // Pillow's 8-bit H and S quantise the colour; the round trip moves a channel by a few levels at most.
  EXPECT_LE(max_abs_diff(out, image), 6);
  EXPECT_LT((out.to(at::kFloat) - image.to(at::kFloat)).abs().mean().item<float>(), 1.5f);
  // grey pixels (S == 0) come back exactly
  const Image grey = at::full({3, 5, 3}, 77, at::kByte);
  EXPECT_TRUE(at::equal(adjust_hue(grey, 0.3), grey));
}

TEST(ColorTransforms, HueRotatesPrimaries) {
  Image red = at::zeros({1, 1, 3}, at::kByte);
  red.data_ptr<uint8_t>()[0] = 255;
  // +1/3 turn: red -> green (H 0 -> 85 of 255)
  const Image shifted = adjust_hue(red, 1.0 / 3.0);
  const auto* p = shifted.data_ptr<uint8_t>();
  EXPECT_LE(p[0], 2);
  EXPECT_EQ(p[1], 255);
  EXPECT_LE(p[2], 2);
}

TEST(ColorTransforms, GrayscaleHasEqualChannelsAndPillowLuma) {
  const Image image = random_image();
  const Image grey = to_grayscale_rgb(image);
  EXPECT_TRUE(at::equal(grey.select(2, 0), grey.select(2, 1)));
  EXPECT_TRUE(at::equal(grey.select(2, 0), grey.select(2, 2)));
  Image pixel = at::zeros({1, 1, 3}, at::kByte);
  auto* p = pixel.data_ptr<uint8_t>();
  p[0] = 10, p[1] = 200, p[2] = 30;  // (10*19595 + 200*38470 + 30*7471 + 32768) >> 16 = 124
  EXPECT_EQ(to_grayscale_rgb(pixel).data_ptr<uint8_t>()[0], 124);
}

TEST(ColorTransforms, BlurKeepsFlatImagesAndSmoothsEdges) {
  const Image flat = at::full({17, 9, 3}, 93, at::kByte);
  EXPECT_TRUE(at::equal(gaussian_blur(flat, 2.0), flat));
  Image step = at::zeros({8, 20, 3}, at::kByte);
  step.narrow(1, 10, 10).fill_(200);
  const Image blurred = gaussian_blur(step, 1.5);
  const auto* b = blurred.data_ptr<uint8_t>();
  const int left = b[(3 * 20 + 9) * 3], right = b[(3 * 20 + 10) * 3];
  EXPECT_GT(left, 0);
  EXPECT_LT(right, 200);
  EXPECT_LT(left, right);
  EXPECT_EQ(b[(3 * 20 + 0) * 3], 0);    // far from the edge, unchanged
  EXPECT_EQ(b[(3 * 20 + 19) * 3], 200);
  // a radius larger than the image (edge values extended) stays in range and keeps a flat image flat
  EXPECT_TRUE(at::equal(gaussian_blur(at::full({3, 2, 3}, 40, at::kByte), 25.0), at::full({3, 2, 3}, 40, at::kByte)));
}

TEST(ColorTransforms, BadInputThrowsShapeError) {
  const at::Tensor chw = at::zeros({3, 8, 8}, at::kByte);
  const at::Tensor floats = at::zeros({8, 8, 3}, at::kFloat);
  const at::Tensor strided = at::zeros({8, 8, 3}, at::kByte).transpose(0, 1);
  for (const at::Tensor& bad : {chw, floats, strided, at::Tensor()}) {
    EXPECT_THROW(adjust_brightness(bad, 0.5), ShapeError);
    EXPECT_THROW(adjust_contrast(bad, 0.5), ShapeError);
    EXPECT_THROW(adjust_saturation(bad, 0.5), ShapeError);
    EXPECT_THROW(adjust_hue(bad, 0.1), ShapeError);
    EXPECT_THROW(to_grayscale_rgb(bad), ShapeError);
    EXPECT_THROW(gaussian_blur(bad, 1.0), ShapeError);
  }
}

TEST(ColorTransforms, BadParametersThrowConfigError) {
  const Image image = random_image();
  EXPECT_THROW(adjust_hue(image, 0.6), ConfigError);
  EXPECT_THROW(adjust_hue(image, -0.51), ConfigError);
  EXPECT_THROW(gaussian_blur(image, -1.0), ConfigError);
  EXPECT_THROW(adjust_brightness(image, std::nan("")), ConfigError);
}

}  // namespace
}  // namespace slipstream
