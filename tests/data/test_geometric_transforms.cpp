// Geometric transforms: RandomResizedCrop sampling stays inside the image with the requested
// area and aspect ranges, resizing to the same size is the identity, and bad boxes are errors.
#include <gtest/gtest.h>

#include <cmath>

#include "slipstream/core/error.h"
#include "slipstream/data/image/geometric_transforms.h"

namespace slipstream {
namespace {

TEST(GeometricTransforms, ResizedCropSamplingRespectsRanges) {
  std::mt19937_64 rng(7);
  int fallbacks = 0;
  for (int i = 0; i < 2000; ++i) {
    const CropBox box = sample_resized_crop(300, 500, {0.08, 1.0}, {3.0 / 4.0, 4.0 / 3.0}, rng);
    ASSERT_GE(box.top, 0);
    ASSERT_GE(box.left, 0);
    ASSERT_LE(box.top + box.height, 300);
    ASSERT_LE(box.left + box.width, 500);
    const double share = static_cast<double>(box.height * box.width) / (300.0 * 500.0);
    const double aspect = static_cast<double>(box.width) / box.height;
    if (share > 1.0 || aspect < 0.7 || aspect > 1.4) ++fallbacks;
    EXPECT_GE(share, 0.07);
  }
  EXPECT_EQ(fallbacks, 0);
  // A strip far outside the ratio range falls back to the central crop of the right ratio.
  const CropBox fallback = sample_resized_crop(10, 1000, {0.9, 1.0}, {3.0 / 4.0, 4.0 / 3.0}, rng);
  EXPECT_EQ(fallback.height, 10);
  EXPECT_EQ(fallback.width, 13);  // round(10 * 4/3)
  EXPECT_EQ(fallback.left, (1000 - 13) / 2);
}

TEST(GeometricTransforms, IdentityResizeAndCrops) {
  at::manual_seed(0);
  const Image image = at::randint(0, 256, {20, 30, 3}, at::kByte);
  EXPECT_TRUE(at::equal(resize(image, 20, 30), image));
  EXPECT_TRUE(at::equal(resized_crop(image, {2, 3, 10, 12}, 10, 12), image.slice(0, 2, 12).slice(1, 3, 15)));
  EXPECT_TRUE(at::equal(horizontal_flip(horizontal_flip(image)), image));
  EXPECT_EQ(center_crop(image, 20).sizes(), (std::vector<int64_t>{20, 20, 3}));
  EXPECT_EQ(resize_short_side(image, 10).sizes(), (std::vector<int64_t>{10, 15, 3}));
  // A uniform image stays uniform through down- and upscaling.
  const Image grey = at::full({17, 23, 3}, 91, at::kByte);
  EXPECT_TRUE(at::equal(resize(grey, 5, 40), at::full({5, 40, 3}, 91, at::kByte)));
}

TEST(GeometricTransforms, ACropCutFromAHalfSizeImageMatchesTheFullSizeCrop) {
  // A smooth picture at 200 x 300 and the same picture at half size.
  const at::Tensor y = at::arange(200, at::kDouble).view({200, 1, 1}), x = at::arange(300, at::kDouble).view({1, 300, 1});
  const at::Tensor channel = at::arange(3, at::kDouble).view({1, 1, 3});
  const Image full = (127.5 + 100.0 * at::sin(y / 23.0 + channel) * at::cos(x / 31.0 - channel)).round().to(at::kByte);
  const Image half = resize(full, 100, 150);
  // An odd box: its edges fall between the half-size image's pixels.
  const CropBox box{37, 51, 121, 173};
  const Image expected = resized_crop(full, box, 32, 48);
  const Image from_half = resized_crop_reduced(half, box, 2, 32, 48);
  ASSERT_EQ(from_half.sizes(), expected.sizes());
  const double mae = (from_half.to(at::kInt) - expected.to(at::kInt)).abs().to(at::kDouble).mean().item<double>();
  EXPECT_LT(mae, 1.0);
  // Whole pixels of the half-size image, shifted by the rounding, are visibly further off.
  const Image rounded = resized_crop(half, {19, 26, 60, 86}, 32, 48);
  const double rounded_mae = (rounded.to(at::kInt) - expected.to(at::kInt)).abs().to(at::kDouble).mean().item<double>();
  EXPECT_LT(mae * 2, rounded_mae);
  // Reduction 1 is resized_crop; a box outside the full-size picture is a ShapeError.
  EXPECT_TRUE(resized_crop_reduced(full, box, 1, 32, 48).equal(expected));
  EXPECT_THROW(resized_crop_reduced(half, {150, 0, 60, 10}, 2, 8, 8), ShapeError);
  EXPECT_THROW(resized_crop_reduced(half, box, 0, 8, 8), ShapeError);
}

TEST(GeometricTransforms, BadBoxesAndImagesAreShapeErrors) {
  const Image image = at::zeros({20, 30, 3}, at::kByte);
  EXPECT_THROW(resized_crop(image, {15, 0, 10, 10}, 5, 5), ShapeError);
  EXPECT_THROW(resized_crop(image, {0, 0, 0, 10}, 5, 5), ShapeError);
  EXPECT_THROW(center_crop(image, 25), ShapeError);
  EXPECT_THROW(resize(at::zeros({20, 30}, at::kByte), 5, 5), ShapeError);
  EXPECT_THROW(resize(at::zeros({20, 30, 3}, at::kFloat), 5, 5), ShapeError);
}

}  // namespace
}  // namespace slipstream
