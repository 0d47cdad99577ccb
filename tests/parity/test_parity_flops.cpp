// The analytic FLOP counts (models/flop_count.h) against torch.utils.flop_counter.FlopCounterMode
// on timm's ViT-S/B/L-16 and open_clip's RN50 image tower and CLIP text tower, forward and
// backward (make_references.py: flop_case): within 2%.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "parity/parity_data.h"
#include "slipstream/core/error.h"
#include "slipstream/models/flop_count.h"
#include "slipstream/models/registry.h"

namespace slipstream {
namespace {

void expect_close(const std::string& what, double ours, double reference) {
  const double relative = std::abs(ours - reference) / reference;
  std::printf("[parity] %-44s slipstream %.6g, FlopCounterMode %.6g, difference %.3g%%\n", what.c_str(), ours, reference,
              100 * relative);
  EXPECT_LE(relative, 0.02) << what;
}

TEST(ParityFlops, TowersCountAsFlopCounterModeDoes) {
  const nlohmann::json reference = nlohmann::json::parse(std::ifstream(testing::parity_path("flops.json")));
  const int64_t batch = reference.at("batch").get<int64_t>();
  const std::pair<const char*, const char*> vision[] = {{"CLIP_VITS16", "vit_small_patch16_224"},
                                                        {"CLIP_VITB16", "vit_base_patch16_224"},
                                                        {"CLIP_VITL16", "vit_large_patch16_224"},
                                                        {"CLIP_RN50", "open_clip_RN50_visual"}};
  for (const auto& [model, key] : vision) {
    const FlopCount ours = vision_tower_flops(model_config(model).vision, batch);
    expect_close(std::string(model) + " image tower, forward", ours.forward, reference.at(key).at("forward"));
    expect_close(std::string(model) + " image tower, backward", ours.backward, reference.at(key).at("backward"));
  }
  const FlopCount text = text_tower_flops(model_config("CLIP_VITB16").text, batch);
  expect_close("CLIP text tower, forward", text.forward, reference.at("open_clip_text_512x12").at("forward"));
  expect_close("CLIP text tower, backward", text.backward, reference.at("open_clip_text_512x12").at("backward"));
}

// A step's parts add up: the towers as above, SLIP's two SimCLR views, the heads and the logits.
TEST(ParityFlops, TrainingStepAddsItsParts) {
  const ModelConfig clip = model_config("CLIP_VITB16"), slip = model_config("SLIP_VITB16");
  const TrainingStepFlops step = training_step_flops(clip, 256, 8);
  EXPECT_DOUBLE_EQ(step.vision.forward, vision_tower_flops(clip.vision, 256).forward);
  EXPECT_DOUBLE_EQ(step.text.forward, text_tower_flops(clip.text, 256).forward);
  EXPECT_DOUBLE_EQ(step.loss.forward, 2 * 2.0 * 256 * 512 * 2048);  // two [256, 512] x [512, 2048] products
  ModelConfig siglip = clip;
  siglip.contrastive_loss = "siglip";  // one product: each image with every text (src/losses/siglip_loss.cpp)
  EXPECT_DOUBLE_EQ(training_step_flops(siglip, 256, 8).loss.forward, 2.0 * 256 * 512 * 2048);
  ModelConfig unprojected = model_config("CLIP_RN50");
  const double heads = training_step_flops(unprojected, 8).heads.forward;
  unprojected.embed_dim = unprojected.vision.output_dim;
  unprojected.image_projection = false;  // no image projection: only the text's is counted
  EXPECT_DOUBLE_EQ(training_step_flops(unprojected, 8).heads.forward, 2.0 * 8 * 512 * 1024);
  EXPECT_GT(heads, 0.0);
  const TrainingStepFlops slip_step = training_step_flops(slip, 256, 8);
  EXPECT_DOUBLE_EQ(slip_step.vision.forward, 3 * step.vision.forward);
  EXPECT_GT(slip_step.total().total(), step.total().total());
  EXPECT_THROW(training_step_flops(model_config("DECLIP_VITB16"), 8), ConfigError);
}

}  // namespace
}  // namespace slipstream
