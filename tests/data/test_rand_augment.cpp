// RandAugment: timm's config strings, the draws (reproducible, magnitudes clipped, probability
// respected) and properties of the ops that hold whatever the image; the exact equality with timm
// and Pillow is tests/parity/test_parity_rand_augment.cpp.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "slipstream/core/error.h"
#include "slipstream/data/image/image_ops.h"
#include "slipstream/data/image/rand_augment.h"

namespace slipstream {
namespace {

Image test_image(int64_t height = 40, int64_t width = 56, uint64_t seed = 0) {
  at::manual_seed(static_cast<int64_t>(seed));
  return at::randint(0, 256, {height, width, 3}, at::kByte);
}

TEST(RandAugment, ParsesTimmConfigStrings) {
  const RandAugmentOptions slip = parse_rand_augment("rand-m9-mstd0.5-inc1");
  EXPECT_EQ(slip.num_ops, 2);
  EXPECT_EQ(slip.magnitude, 9);
  EXPECT_EQ(slip.magnitude_std, 0.5);
  EXPECT_EQ(slip.magnitude_max, 10);
  EXPECT_EQ(slip.probability, 0.5);
  EXPECT_TRUE(slip.increasing);
  EXPECT_EQ(slip.fill, (Fill{124, 116, 104}));
  EXPECT_EQ(slip.resampling, Resampling::kBicubic);

  const RandAugmentOptions other = parse_rand_augment("rand-n3-m7-mmax15-p0.8");
  EXPECT_EQ(other.num_ops, 3);
  EXPECT_EQ(other.magnitude, 7);
  EXPECT_EQ(other.magnitude_max, 15);
  EXPECT_DOUBLE_EQ(other.probability, 0.8);
  EXPECT_EQ(other.magnitude_std, 0.0);  // timm's defaults for what is not given
  EXPECT_FALSE(other.increasing);

  const RandAugmentOptions bare = parse_rand_augment("rand");
  EXPECT_EQ(bare.magnitude, 10);
  EXPECT_EQ(bare.num_ops, 2);
  EXPECT_TRUE(std::isinf(parse_rand_augment("rand-mstd101").magnitude_std));  // > 100: uniform sampling
  EXPECT_FALSE(parse_rand_augment("rand-inc0").increasing);
}

TEST(RandAugment, BadConfigStringsNameTheBadPart) {
  auto message = [](const std::string& spec) {
    try {
      parse_rand_augment(spec);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("augmix-m5").find("'augmix'"), std::string::npos);
  EXPECT_NE(message("rand-m9-x3").find("'x3'"), std::string::npos);
  EXPECT_NE(message("rand-m9.5").find("'m9.5'"), std::string::npos);  // timm's int(val) rejects it too
  EXPECT_NE(message("rand-mstd").find("'mstd'"), std::string::npos);
  EXPECT_NE(message("rand-tweights").find("'tweights'"), std::string::npos);
  EXPECT_NE(message("rand-p1.5").find("probability"), std::string::npos);
  EXPECT_EQ(message("rand-m9-mstd0.5-inc1"), "no error");
}

TEST(RandAugment, SameSeedSameImageAndProbabilityZeroIsIdentity) {
  const Image image = test_image();
  const RandAugmentOptions options = parse_rand_augment("rand-m9-mstd0.5-inc1");
  for (uint64_t seed = 0; seed < 20; ++seed) {
    std::mt19937_64 a(seed), b(seed);
    EXPECT_TRUE(at::equal(rand_augment(image, options, a), rand_augment(image, options, b))) << seed;
  }
  // Different seeds give different images for most seeds (an op can be skipped or be the identity).
  int differing = 0;
  std::mt19937_64 first(1);
  const Image reference = rand_augment(image, options, first);
  for (uint64_t seed = 2; seed < 22; ++seed) {
    std::mt19937_64 rng(seed);
    differing += !at::equal(reference, rand_augment(image, options, rng));
  }
  EXPECT_GE(differing, 15);

  RandAugmentOptions never = options;
  never.probability = 0.0;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    std::mt19937_64 rng(seed);
    const Image out = rand_augment(image, never, rng);
    EXPECT_TRUE(at::equal(out, image));
    EXPECT_NE(out.data_ptr(), image.data_ptr());  // a new image, as every transform returns
  }
}

TEST(RandAugment, MagnitudesStayInRangeAndOpsAreUniform) {
  RandAugmentOptions options = parse_rand_augment("rand-m9-mstd0.5-inc1");
  options.probability = 1.0;
  options.magnitude_std = 3.0;  // wide noise so both clip bounds are reached
  std::mt19937_64 rng(4);
  std::array<int, kRandAugmentOpCount> counts{};
  int at_max = 0, at_zero = 0, negated = 0, signed_ops = 0;
  const int draws = 30000;
  for (int i = 0; i < draws / 2; ++i) {
    for (const RandAugmentStep& step : sample_rand_augment(options, rng)) {
      ASSERT_TRUE(step.applied);
      ASSERT_GE(step.magnitude, 0.0);
      ASSERT_LE(step.magnitude, 10.0);
      at_max += step.magnitude == 10.0;
      at_zero += step.magnitude == 0.0;
      ++counts[static_cast<int>(step.op)];
      if (rand_augment_op_is_signed(step.op, true)) {
        ++signed_ops;
        negated += step.negate;
      } else {
        ASSERT_FALSE(step.negate);
      }
    }
  }
  EXPECT_GT(at_max, 0);
  EXPECT_GT(at_zero, 0);
  for (int count : counts) EXPECT_NEAR(count / double(draws), 1.0 / kRandAugmentOpCount, 0.01);
  EXPECT_NEAR(negated / double(signed_ops), 0.5, 0.02);

  // mstd 0.5 around 9: mean near 9 (slightly below: the clip at 10), spread near 0.5
  options.magnitude_std = 0.5;
  double sum = 0;
  int n = 0;
  for (int i = 0; i < 5000; ++i) {
    for (const RandAugmentStep& step : sample_rand_augment(options, rng)) {
      sum += step.magnitude;
      ++n;
    }
  }
  EXPECT_NEAR(sum / n, 9.0, 0.05);
  // mmax 15 lets the magnitude pass 10; probability 0.5 applies about half of the ops
  options.magnitude = 14;
  options.magnitude_max = 15;
  options.probability = 0.5;
  int applied = 0, above_ten = 0;
  for (int i = 0; i < 5000; ++i) {
    for (const RandAugmentStep& step : sample_rand_augment(options, rng)) {
      applied += step.applied;
      if (step.applied) {
        EXPECT_LE(step.magnitude, 15.0);
        above_ten += step.magnitude > 10.0;
      }
    }
  }
  EXPECT_NEAR(applied / 10000.0, 0.5, 0.03);
  EXPECT_EQ(above_ten, applied);
}

TEST(RandAugment, OpsKeepTheShapeAndSomeAreIdentities) {
  const Image image = test_image(33, 47, 3);
  RandAugmentOptions options;
  for (int i = 0; i < kRandAugmentOpCount; ++i) {
    for (double magnitude : {0.0, 5.0, 10.0}) {
      const Image out = apply_rand_augment_op(image, static_cast<RandAugmentOp>(i), magnitude, true, options);
      EXPECT_EQ(out.sizes(), image.sizes()) << rand_augment_op_name(static_cast<RandAugmentOp>(i), true);
    }
  }
  // At magnitude 0 the geometric ops and the increasing enhance ops change nothing.
  for (RandAugmentOp op : {RandAugmentOp::kRotate, RandAugmentOp::kShearX, RandAugmentOp::kShearY,
                           RandAugmentOp::kTranslateXRel, RandAugmentOp::kTranslateYRel, RandAugmentOp::kColor,
                           RandAugmentOp::kContrast, RandAugmentOp::kBrightness, RandAugmentOp::kSharpness}) {
    EXPECT_TRUE(at::equal(apply_rand_augment_op(image, op, 0.0, false, options), image))
        << rand_augment_op_name(op, true);
  }
  // Invert twice is the identity; posterize with 0 bits (PosterizeIncreasing at 10) is black.
  EXPECT_TRUE(at::equal(invert(invert(image)), image));
  EXPECT_EQ(apply_rand_augment_op(image, RandAugmentOp::kPosterize, 10.0, false, options).max().item<int>(), 0);
  // A translation by the whole width leaves only the fill.
  options.translate_pct = 1.0;
  const Image gone = apply_rand_augment_op(image, RandAugmentOp::kTranslateXRel, 10.0, false, options);
  EXPECT_TRUE(at::equal(gone.select(2, 0), at::full({33, 47}, 124, at::kByte)));
  EXPECT_THROW(posterize(image, 9), ConfigError);
}

}  // namespace
}  // namespace slipstream
