// View recipes: sampling statistics match the recipe's probabilities and ranges, draws depend only
// on (seed, epoch, index, stream), and outputs have the model's shape.
#include <gtest/gtest.h>

#include <cmath>

#include "slipstream/core/error.h"
#include "slipstream/data/image/augmentation.h"
#include "slipstream/data/image/image.h"
#include "slipstream/data/image/view_augmentation.h"

namespace slipstream {
namespace {

TEST(Augmentation, SimclrSamplingFollowsTheRecipe) {
  std::mt19937_64 rng(3);
  const int draws = 20000;
  int jitter = 0, grayscale = 0, blur = 0, flip = 0;
  double smallest_share = 1.0;
  for (int i = 0; i < draws; ++i) {
    const SampledView v = sample_view(ViewRecipe::kSimclr, 400, 600, rng);
    jitter += v.jitter;
    grayscale += v.grayscale;
    blur += v.blur;
    flip += v.flip;
    smallest_share = std::min(smallest_share, static_cast<double>(v.crop.height * v.crop.width) / (400.0 * 600.0));
    if (v.jitter) {
      ASSERT_GE(v.brightness, 0.6);
      ASSERT_LE(v.brightness, 1.4);
      ASSERT_GE(v.hue, -0.1);
      ASSERT_LE(v.hue, 0.1);
    }
    if (v.blur) {
      ASSERT_GE(v.blur_sigma, 0.1);
      ASSERT_LE(v.blur_sigma, 2.0);
    }
  }
  // Binomial standard deviations are below 0.004 at 20000 draws: 0.015 is over 3.5 of them.
  EXPECT_NEAR(jitter / double(draws), 0.8, 0.015);
  EXPECT_NEAR(grayscale / double(draws), 0.2, 0.015);
  EXPECT_NEAR(blur / double(draws), 0.5, 0.015);
  EXPECT_NEAR(flip / double(draws), 0.5, 0.015);
  EXPECT_LT(smallest_share, 0.1);
  EXPECT_GE(smallest_share, 0.075);
}

TEST(Augmentation, ClipAndEvalRecipesDrawOnlyWhatTheyUse) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 2000; ++i) {
    const SampledView v = sample_view(ViewRecipe::kClip, 300, 300, rng);
    EXPECT_FALSE(v.jitter || v.grayscale || v.blur || v.flip);
    EXPECT_GE(v.crop.height * v.crop.width, static_cast<int64_t>(0.49 * 300 * 300));
  }
  const SampledView eval = sample_view(ViewRecipe::kEvalZeroShot, 300, 300, rng);
  EXPECT_EQ(eval.crop.height, 0);
  EXPECT_EQ(parse_view_recipe("mocov2"), ViewRecipe::kMocoV2);
  EXPECT_EQ(min_crop_scale(ViewRecipe::kMocoV2), 0.2);
  EXPECT_THROW(parse_view_recipe("autoaugment"), ConfigError);
}

TEST(Augmentation, LinearTrainViewIsACropAndAFlip) {
  // MoCo v3's linear-probe view: RandomResizedCrop(scale (0.08, 1)) and a fair flip, nothing else.
  std::mt19937_64 rng(11);
  int flips = 0;
  double smallest_share = 1.0;
  const int draws = 4000;
  for (int i = 0; i < draws; ++i) {
    const SampledView v = sample_view(ViewRecipe::kLinearTrain, 300, 400, rng);
    EXPECT_FALSE(v.jitter || v.grayscale || v.blur);
    flips += v.flip;
    smallest_share = std::min(smallest_share, double(v.crop.height * v.crop.width) / (300.0 * 400.0));
  }
  EXPECT_NEAR(flips / double(draws), 0.5, 0.03);
  EXPECT_LT(smallest_share, 0.1);
  EXPECT_GE(smallest_share, 0.075);
  EXPECT_EQ(parse_view_recipe("linear-train"), ViewRecipe::kLinearTrain);
  EXPECT_EQ(view_recipe_name(ViewRecipe::kLinearTrain), "linear-train");
}

TEST(Augmentation, SampleRngDependsOnlyOnItsKeys) {
  auto draw = [](uint64_t seed, uint64_t epoch, uint64_t index, uint64_t stream) {
    std::mt19937_64 rng = sample_rng(seed, epoch, index, stream);
    return rng();
  };
  EXPECT_EQ(draw(1, 2, 3, 4), draw(1, 2, 3, 4));
  EXPECT_NE(draw(1, 2, 3, 4), draw(1, 2, 3, 5));
  EXPECT_NE(draw(1, 2, 3, 4), draw(1, 2, 4, 4));
  EXPECT_NE(draw(1, 2, 3, 4), draw(1, 3, 3, 4));
  EXPECT_NE(draw(1, 2, 3, 4), draw(2, 2, 3, 4));
}

TEST(Augmentation, ViewsHaveTheModelsShapeAndAreReproducible) {
  at::manual_seed(0);
  const Image image = at::randint(0, 256, {180, 260, 3}, at::kByte);
  for (ViewRecipe recipe : {ViewRecipe::kClip, ViewRecipe::kSimclr, ViewRecipe::kMocoV2, ViewRecipe::kEvalZeroShot,
                            ViewRecipe::kEvalLinear, ViewRecipe::kLinearTrain, ViewRecipe::kFinetune}) {
    std::mt19937_64 first = sample_rng(7, 0, 42, 1), second = sample_rng(7, 0, 42, 1);
    const at::Tensor a = make_view(image, recipe, first);
    EXPECT_EQ(a.sizes(), (std::vector<int64_t>{3, 224, 224})) << view_recipe_name(recipe);
    EXPECT_TRUE(at::equal(a, make_view(image, recipe, second))) << view_recipe_name(recipe);
  }
}

TEST(Augmentation, FinetuneViewIsReproducibleAndSeedDependent) {
  at::manual_seed(1);
  const Image image = at::randint(0, 256, {150, 210, 3}, at::kByte);
  EXPECT_EQ(parse_view_recipe("finetune"), ViewRecipe::kFinetune);
  EXPECT_EQ(view_recipe_name(ViewRecipe::kFinetune), "finetune");
  EXPECT_EQ(min_crop_scale(ViewRecipe::kFinetune), 0.08);
  const int64_t size = 96;
  auto view = [&](uint64_t index, const FinetuneAugmentation& finetune) {
    std::mt19937_64 rng = sample_rng(3, 1, index, 1);
    return make_view(image, ViewRecipe::kFinetune, rng, size, ViewSettings{{}, {}, finetune});
  };
  const FinetuneAugmentation slip;  // rand-m9-mstd0.5-inc1, erasing 0.25 'pixel'
  const at::Tensor a = view(5, slip);
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{3, size, size}));
  EXPECT_TRUE(at::equal(a, view(5, slip)));
  EXPECT_FALSE(at::equal(a, view(6, slip)));
  // Over many samples every part of the recipe shows up: flips, applied ops, erased boxes.
  std::mt19937_64 rng(9);
  int flips = 0, erased = 0, applied = 0;
  const int draws = 2000;
  for (int i = 0; i < draws; ++i) {
    const SampledView v = sample_view(ViewRecipe::kFinetune, 150, 210, rng, ViewSettings{{}, {}, slip}, size);
    flips += v.flip;
    erased += !v.erased.empty();
    ASSERT_EQ(v.rand_augment.size(), 2u);
    for (const RandAugmentStep& step : v.rand_augment) applied += step.applied;
  }
  EXPECT_NEAR(flips / double(draws), 0.5, 0.05);
  EXPECT_NEAR(erased / double(draws), 0.25, 0.04);
  EXPECT_NEAR(applied / double(2 * draws), 0.5, 0.04);
  // Without RandAugment and erasing, the view is the bicubic crop and flip alone.
  const FinetuneAugmentation plain{"", 0.0, "pixel"};
  std::mt19937_64 first = sample_rng(3, 1, 5, 1), second = sample_rng(3, 1, 5, 1);
  const SampledView drawn = sample_view(ViewRecipe::kFinetune, 150, 210, first, ViewSettings{{}, {}, plain}, size);
  EXPECT_TRUE(drawn.rand_augment.empty());
  EXPECT_TRUE(drawn.erased.empty());
  Image expected = resized_crop(image, drawn.crop, size, size, Resampling::kBicubic);
  if (drawn.flip) expected = horizontal_flip(expected);
  EXPECT_TRUE(at::equal(make_view(image, ViewRecipe::kFinetune, second, size, ViewSettings{{}, {}, plain}), to_normalized_chw(expected)));
  // Bad settings name themselves.
  std::mt19937_64 other(1);
  EXPECT_THROW(make_view(image, ViewRecipe::kFinetune, other, size, ViewSettings{{}, {}, {"rand-x9", 0.25, "pixel"}}), ConfigError);
  EXPECT_THROW(make_view(image, ViewRecipe::kFinetune, other, size, ViewSettings{{}, {}, {"", 0.25, "noise"}}), ConfigError);
}

// --aug-cfg: open_clip's names and value syntax, a clear error naming the item, and the clip view
// it reshapes drawing exactly what it asks for (and the default view drawing as before).
TEST(Augmentation, AugCfgParsesOpenClipsItemsAndRefusesOthers) {
  const ViewAugmentation a = parse_aug_cfg({"scale=(0.9,1.0)", "interpolation=bicubic", "color_jitter=0.4",
                                            "color_jitter_prob=0.8", "gray_scale_prob=0.2", "ratio=[0.75, 1.3333]"});
  ASSERT_TRUE(a.scale.has_value());
  EXPECT_EQ(*a.scale, (std::pair<double, double>{0.9, 1.0}));
  EXPECT_EQ(*a.interpolation, Resampling::kBicubic);
  EXPECT_EQ(a.color_jitter, (std::array<double, 4>{0.4, 0.4, 0.4, 0.0}));  // one number: b, c, s; hue 0 (open_clip)
  EXPECT_EQ(a.gray_scale_prob, 0.2);
  EXPECT_EQ(parse_aug_cfg(aug_cfg_items(a)), a);  // what the run config records reads back the same
  EXPECT_TRUE(parse_aug_cfg({}).empty());
  auto message_of = [](const std::vector<std::string>& items) {
    try {
      parse_aug_cfg(items);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message_of({"scale=(0.9)"}).find("--aug-cfg scale=(0.9): expected (min,max)"), std::string::npos);
  EXPECT_NE(message_of({"scale=(0.9,1.5)"}).find("--aug-cfg scale=(0.9,1.5)"), std::string::npos);
  EXPECT_NE(message_of({"sclae=(0.9,1)"}).find("unknown key 'sclae'"), std::string::npos);
  EXPECT_NE(message_of({"gray_scale_prob=2"}).find("probability in [0, 1]"), std::string::npos);
  EXPECT_NE(message_of({"use_timm=True"}).find("--view finetune"), std::string::npos);
  EXPECT_NE(message_of({"interpolation=lanczos"}).find("expected bilinear or bicubic"), std::string::npos);
  EXPECT_NE(message_of({"color_jitter_prob=0.5"}).find("color_jitter is not"), std::string::npos);
  EXPECT_NE(message_of({"scale"}).find("expected KEY=VALUE"), std::string::npos);
}

TEST(Augmentation, AugCfgReshapesTheClipViewOnly) {
  ViewSettings settings;
  settings.clip = parse_aug_cfg({"scale=(0.9,1.0)", "color_jitter=(0.4,0.4,0.4,0.1)", "color_jitter_prob=0.5",
                                 "gray_scale_prob=0.25"});
  std::mt19937_64 rng(11);
  const int draws = 4000;
  int jitter = 0, grayscale = 0;
  for (int i = 0; i < draws; ++i) {
    const SampledView v = sample_view(ViewRecipe::kClip, 300, 400, rng, settings);
    EXPECT_GE(v.crop.height * v.crop.width, static_cast<int64_t>(0.895 * 300 * 400));
    EXPECT_FALSE(v.blur || v.flip);  // open_clip's train view has neither
    jitter += v.jitter;
    grayscale += v.grayscale;
    if (v.jitter) {
      EXPECT_TRUE(v.brightness >= 0.6 && v.brightness <= 1.4 && std::abs(v.hue) <= 0.1);
    }
  }
  EXPECT_NEAR(jitter / static_cast<double>(draws), 0.5, 0.03);
  EXPECT_NEAR(grayscale / static_cast<double>(draws), 0.25, 0.03);
  EXPECT_EQ(min_crop_scale(ViewRecipe::kClip, settings), 0.9);  // reduced JPEG decoding follows the scale
  // The SimCLR views keep SimCLR's recipe; without --aug-cfg the clip view draws as it always did.
  std::mt19937_64 a(3), b(3);
  for (int i = 0; i < 50; ++i) {
    const SampledView simclr = sample_view(ViewRecipe::kSimclr, 300, 400, a, settings);
    const SampledView plain = sample_view(ViewRecipe::kSimclr, 300, 400, b);
    EXPECT_EQ(simclr.crop.top, plain.crop.top);
    EXPECT_EQ(simclr.blur_sigma, plain.blur_sigma);
  }
}

}  // namespace
}  // namespace slipstream
