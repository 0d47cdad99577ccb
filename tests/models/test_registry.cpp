// The registry: SLIP's model names, clear errors for unknown ones, and the towers each name builds.
#include <gtest/gtest.h>

#include "slipstream/core/error.h"
#include "slipstream/models/registry.h"

namespace slipstream {
namespace {

TEST(Registry, HasSlipNamesForEveryFamilyAndShape) {
  const auto names = registered_models();
  for (const char* family : {"CLIP", "SIMCLR", "SLIP"}) {
    for (const char* shape : {"VITS16", "VITB16", "VITL16"}) {
      const std::string name = std::string(family) + "_" + shape;
      EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
    }
  }
  EXPECT_NE(std::find(names.begin(), names.end(), "CLIP_RN50"), names.end());
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST(Registry, ShapesFollowReference) {
  struct Expected {
    const char* suffix;
    int64_t width, depth, heads;
  };
  for (const auto& e : {Expected{"VITS16", 384, 12, 12}, Expected{"VITB16", 768, 12, 12},
                        Expected{"VITL16", 1024, 24, 16}}) {
    const ModelConfig c = model_config(std::string("SLIP_") + e.suffix);
    EXPECT_EQ(c.family, "slip");
    EXPECT_EQ(c.vision.width, e.width);
    EXPECT_EQ(c.vision.depth, e.depth);
    EXPECT_EQ(c.vision.heads, e.heads);
    EXPECT_EQ(c.vision.patch_size, 16);
    EXPECT_EQ(c.embed_dim, 512);
    EXPECT_EQ(c.text.width, 512);
    EXPECT_EQ(c.text.layers, 12);
    EXPECT_EQ(c.text.heads, 8);
    EXPECT_EQ(c.text.context_length, 77);
    EXPECT_EQ(c.text.vocab_size, 49408);
    EXPECT_EQ(c.ssl.mlp_dim, 4096);
    EXPECT_EQ(c.ssl.emb_dim, 256);
  }
  const ModelConfig rn50 = model_config("CLIP_RN50");
  EXPECT_EQ(rn50.vision.type, "modified_resnet");
  EXPECT_EQ(rn50.vision.output_width(), 1024);
}

TEST(Registry, UnknownNameListsTheKnownOnes) {
  try {
    model_config("SLIP_VITX99");
    FAIL();
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("unknown model 'SLIP_VITX99'"), std::string::npos) << message;
    EXPECT_NE(message.find("SLIP_VITB16"), std::string::npos) << message;
  }
}

TEST(Registry, BuildsTheFamilyEachNameSays) {
  ContrastiveModel slip = create_model("SLIP_VITT16");
  EXPECT_NE(dynamic_cast<SlipModelImpl*>(slip.get()), nullptr);
  ContrastiveModel simclr = create_model("SIMCLR_VITT16");
  EXPECT_NE(dynamic_cast<SimclrModelImpl*>(simclr.get()), nullptr);
  ContrastiveModel clip = create_model("CLIP_VITT16");
  EXPECT_NE(dynamic_cast<ClipModelImpl*>(clip.get()), nullptr);
  EXPECT_EQ(dynamic_cast<SlipModelImpl*>(clip.get()), nullptr);
}

TEST(Registry, ParameterCountsSplitByTower) {
  const ParameterCounts clip = count_parameters(*create_model("CLIP_VITT16"));
  const ParameterCounts simclr = count_parameters(*create_model("SIMCLR_VITT16"));
  const ParameterCounts slip = count_parameters(*create_model("SLIP_VITT16"));
  EXPECT_EQ(clip.vision, simclr.vision);
  EXPECT_EQ(clip.vision, slip.vision);
  EXPECT_EQ(simclr.text, 0);
  EXPECT_EQ(clip.text, slip.text);
  // Text tower: 49408x512 tokens + 77x512 positions + 12 blocks + ln_final.
  const int64_t block = 3 * 512 * 512 + 3 * 512 + 512 * 512 + 512 + 2 * 512 * 2048 + 2048 + 512 + 4 * 512;
  EXPECT_EQ(clip.text, 49408 * 512 + 77 * 512 + 12 * block + 2 * 512);
  // CLIP heads: image projection 192x512, text projection 512x512, logit scale.
  EXPECT_EQ(clip.heads, 192 * 512 + 512 * 512 + 1);
  // SimCLR MLP 192 -> 4096 -> 4096 -> 256 with two BatchNorms.
  const int64_t mlp = 192 * 4096 + 4096 + 2 * 4096 + 4096 * 4096 + 4096 + 2 * 4096 + 4096 * 256 + 256;
  EXPECT_EQ(simclr.heads, mlp);
  EXPECT_EQ(slip.heads, clip.heads + mlp);
}

}  // namespace
}  // namespace slipstream
