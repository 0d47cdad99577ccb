// Initialisation statistics: SLIP's text-side init, timm's ViT init, open_clip's RN50 init,
// PyTorch's defaults for the SimCLR MLP, and logit_scale = ln(1/0.07).
#include <gtest/gtest.h>

#include <cmath>

#include "slipstream/core/state_dict.h"
#include "slipstream/models/registry.h"

namespace slipstream {
namespace {

double std_of(const at::Tensor& t) { return t.std().item<double>(); }
double mean_of(const at::Tensor& t) { return t.mean().item<double>(); }

// Sample std within 5% of `expected` and mean near 0.
void expect_normal(const StateDict& weights, const std::string& name, double expected) {
  const at::Tensor& t = weights.at(name);
  EXPECT_NEAR(std_of(t), expected, 0.05 * expected) << name;
  EXPECT_NEAR(mean_of(t), 0.0, 0.1 * expected) << name;
}

TEST(Initialisation, SlipTextTowerProjectionsAndLogitScale) {
  at::manual_seed(1);
  ContrastiveModel model = create_model("CLIP_VITS16");
  const StateDict w = state_dict(*model);
  const double width = 512, layers = 12;
  const double attn_std = std::pow(width, -0.5);
  const double proj_std = attn_std * std::pow(2 * layers, -0.5);
  expect_normal(w, "token_embedding.weight", 0.02);
  expect_normal(w, "positional_embedding", 0.01);
  for (const char* block : {"transformer.resblocks.0.", "transformer.resblocks.11."}) {
    expect_normal(w, std::string(block) + "attn.in_proj_weight", attn_std);
    expect_normal(w, std::string(block) + "attn.out_proj.weight", proj_std);
    expect_normal(w, std::string(block) + "mlp.c_fc.weight", std::pow(2 * width, -0.5));
    expect_normal(w, std::string(block) + "mlp.c_proj.weight", proj_std);
    EXPECT_EQ(w.at(std::string(block) + "attn.in_proj_bias").abs().max().item<double>(), 0.0);
    EXPECT_EQ(w.at(std::string(block) + "attn.out_proj.bias").abs().max().item<double>(), 0.0);
  }
  expect_normal(w, "image_projection", std::pow(384.0, -0.5));
  expect_normal(w, "text_projection", attn_std);
  EXPECT_NEAR(w.at("logit_scale").item<double>(), std::log(1 / 0.07), 1e-6);
  EXPECT_NEAR(w.at("logit_scale").item<double>(), 2.6593, 1e-4);
}

TEST(Initialisation, TimmVitInit) {
  at::manual_seed(2);
  ContrastiveModel model = create_model("SIMCLR_VITS16");
  const StateDict w = state_dict(*model);
  for (const char* name : {"visual.blocks.0.attn.qkv.weight", "visual.blocks.11.mlp.fc2.weight"}) {
    expect_normal(w, name, 0.02);
    EXPECT_LE(w.at(name).abs().max().item<double>(), 2.0);  // truncated at +-2
  }
  EXPECT_EQ(w.at("visual.blocks.0.attn.qkv.bias").abs().max().item<double>(), 0.0);
  expect_normal(w, "visual.pos_embed", 0.02);
  EXPECT_LT(w.at("visual.cls_token").abs().max().item<double>(), 1e-5);  // N(0, 1e-6)
  EXPECT_EQ(w.at("visual.norm.weight").min().item<double>(), 1.0);
  EXPECT_EQ(w.at("visual.norm.bias").abs().max().item<double>(), 0.0);
  // SimCLR MLP: PyTorch's default Linear init, U(-1/sqrt(in), 1/sqrt(in)), std 1/sqrt(3 in).
  EXPECT_NEAR(std_of(w.at("image_mlp.layer2.weight")), 1 / std::sqrt(3.0 * 4096), 0.02 / std::sqrt(3.0 * 4096));
  EXPECT_LE(w.at("image_mlp.layer1.weight").abs().max().item<double>(), 1 / std::sqrt(384.0));
  EXPECT_EQ(w.at("image_mlp.bn1.weight").min().item<double>(), 1.0);
}

TEST(Initialisation, ModifiedResNetInit) {
  at::manual_seed(3);
  ContrastiveModel model = create_model("CLIP_RN50");
  const StateDict w = state_dict(*model);
  const double std = std::pow(2048.0, -0.5);
  for (const char* name : {"visual.attnpool.q_proj.weight", "visual.attnpool.k_proj.weight",
                           "visual.attnpool.v_proj.weight", "visual.attnpool.c_proj.weight"}) {
    expect_normal(w, name, std);
  }
  expect_normal(w, "visual.attnpool.positional_embedding", std);
  for (const char* name : {"visual.layer1.0.bn3.weight", "visual.layer4.2.bn3.weight"}) {
    EXPECT_EQ(w.at(name).abs().max().item<double>(), 0.0) << name;
  }
  EXPECT_EQ(w.at("visual.layer1.0.bn1.weight").min().item<double>(), 1.0);
  expect_normal(w, "image_projection", std::pow(1024.0, -0.5));
}

}  // namespace
}  // namespace slipstream
