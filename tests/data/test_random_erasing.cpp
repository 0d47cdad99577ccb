// RandomErasing: timm's box sampling and fills on a normalised [3, H, W] tensor.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "slipstream/core/error.h"
#include "slipstream/data/image/random_erasing.h"

namespace slipstream {
namespace {

at::Tensor test_tensor() {
  at::manual_seed(2);
  return at::rand({3, 64, 80}, at::kFloat) + 10.0f;  // far from N(0, 1) draws: erased values differ
}

TEST(RandomErasing, ProbabilityZeroLeavesTheTensor) {
  const at::Tensor image = test_tensor();
  RandomErasingOptions options;
  options.probability = 0.0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    std::mt19937_64 rng(seed);
    EXPECT_TRUE(at::equal(random_erasing(image, options, rng), image));
  }
}

TEST(RandomErasing, ProbabilityOneErasesOneRectangleInsideTheAreaRange) {
  const at::Tensor image = test_tensor();
  RandomErasingOptions options;
  options.probability = 1.0;
  for (ErasingMode mode : {ErasingMode::kPixel, ErasingMode::kRand, ErasingMode::kConst}) {
    options.mode = mode;
    for (uint64_t seed = 0; seed < 50; ++seed) {
      std::mt19937_64 rng(seed), replay(seed);
      const at::Tensor out = random_erasing(image, options, rng);
      const std::vector<CropBox> boxes = sample_random_erasing(64, 80, options, replay);
      ASSERT_EQ(boxes.size(), 1u);
      const CropBox& box = boxes[0];
      // rounding of h and w moves the share a little past the bounds on a 64x80 image
      const double share = double(box.height * box.width) / (64.0 * 80.0);
      EXPECT_GE(share, 0.02 * 0.8);
      EXPECT_LE(share, 1.0 / 3.0 * 1.2);
      EXPECT_LT(box.height, 64);
      EXPECT_LT(box.width, 80);
      // pixels differ exactly inside the box
      const at::Tensor changed = (out != image).any(0);  // [H, W]
      at::Tensor expected = at::zeros({64, 80}, at::kBool);
      expected.slice(0, box.top, box.top + box.height).slice(1, box.left, box.left + box.width).fill_(true);
      EXPECT_TRUE(at::equal(changed, expected)) << erasing_mode_name(mode) << " seed " << seed;
      const at::Tensor inside = out.slice(1, box.top, box.top + box.height).slice(2, box.left, box.left + box.width);
      if (mode == ErasingMode::kConst) EXPECT_EQ(inside.abs().max().item<float>(), 0.0f);
      if (mode == ErasingMode::kRand) {  // one value per channel
        EXPECT_TRUE(at::equal(inside, inside.select(1, 0).select(1, 0).view({3, 1, 1}).expand_as(inside)));
      }
    }
  }
}

TEST(RandomErasing, PixelValuesAreStandardNormalAndSeeded) {
  const at::Tensor image = test_tensor();
  RandomErasingOptions options;
  options.probability = 1.0;
  std::mt19937_64 a(7), b(7), c(8);
  const at::Tensor first = random_erasing(image, options, a);
  EXPECT_TRUE(at::equal(first, random_erasing(image, options, b)));
  EXPECT_FALSE(at::equal(first, random_erasing(image, options, c)));
  const at::Tensor erased = first.masked_select(first != image);
  ASSERT_GT(erased.numel(), 300);
  EXPECT_NEAR(erased.mean().item<float>(), 0.0f, 0.15f);
  EXPECT_NEAR(erased.std().item<float>(), 1.0f, 0.15f);
}

TEST(RandomErasing, OptionsAndShapesAreChecked) {
  std::mt19937_64 rng(1);
  EXPECT_EQ(parse_erasing_mode("pixel"), ErasingMode::kPixel);
  EXPECT_THROW(parse_erasing_mode("noise"), ConfigError);
  RandomErasingOptions bad;
  bad.max_area = 0.01;  // below min_area
  EXPECT_THROW(random_erasing(test_tensor(), bad, rng), ConfigError);
  EXPECT_THROW(random_erasing(at::zeros({64, 80}), RandomErasingOptions{}, rng), ShapeError);
  EXPECT_THROW(random_erasing(at::zeros({3, 8, 8}, at::kByte), RandomErasingOptions{}, rng), ShapeError);
}

}  // namespace
}  // namespace slipstream
