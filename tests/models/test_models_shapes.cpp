// Model behaviour on small shapes: output shapes per family, SLIP's state-dict names, clear
// errors for wrong inputs, drop path, patch dropout, the logit-scale clamp, SigLIP's temperature
// and bias, and dtype conversion.
#include <gtest/gtest.h>

#include "models/small_configs.h"
#include "slipstream/core/error.h"
#include "slipstream/core/state_dict.h"
#include "slipstream/models/contrastive_models.h"
#include "slipstream/models/modified_resnet.h"
#include "slipstream/models/registry.h"
#include "slipstream/models/vision_transformer.h"

namespace slipstream {
namespace {

using testing::small_config;

ModelInputs small_inputs(int64_t batch, const ModelConfig& c) {
  at::manual_seed(0);
  ModelInputs inputs;
  inputs.image = at::randn({batch, 3, c.vision.image_size, c.vision.image_size});
  inputs.aug1 = at::randn({batch, 3, c.vision.image_size, c.vision.image_size});
  inputs.aug2 = at::randn({batch, 3, c.vision.image_size, c.vision.image_size});
  inputs.text = at::randint(1, c.text.vocab_size - 1, {batch, c.text.context_length}, at::kLong);
  inputs.text.select(1, 5).fill_(c.text.vocab_size - 1);  // EOT, the largest id
  return inputs;
}

TEST(Models, OutputShapesPerFamily) {
  for (const char* vision : {"vit", "modified_resnet"}) {
    SCOPED_TRACE(vision);
    const ModelConfig clip_config = small_config("clip", vision);
    ModelOutputs clip = create_model(clip_config)->forward(small_inputs(3, clip_config));
    EXPECT_EQ(clip.image_embed.sizes(), (std::vector<int64_t>{3, 16}));
    EXPECT_EQ(clip.text_embed.sizes(), (std::vector<int64_t>{3, 16}));
    EXPECT_EQ(clip.logit_scale.dim(), 0);
    EXPECT_FALSE(clip.aug1_embed.defined());

    const ModelConfig simclr_config = small_config("simclr", vision);
    ModelOutputs simclr = create_model(simclr_config)->forward(small_inputs(3, simclr_config));
    EXPECT_EQ(simclr.aug1_embed.sizes(), (std::vector<int64_t>{3, 8}));
    EXPECT_FALSE(simclr.image_embed.defined());

    const ModelConfig slip_config = small_config("slip", vision);
    ModelOutputs slip = create_model(slip_config)->forward(small_inputs(3, slip_config));
    EXPECT_EQ(slip.image_embed.sizes(), (std::vector<int64_t>{3, 16}));
    EXPECT_EQ(slip.aug2_embed.sizes(), (std::vector<int64_t>{3, 8}));
  }
}

TEST(Models, StateDictUsesSlipNames) {
  const StateDict names = state_dict(*create_model(small_config("slip")));
  for (const char* name : {"visual.cls_token", "visual.pos_embed", "visual.patch_embed.proj.weight",
                           "visual.blocks.0.attn.qkv.weight", "visual.blocks.1.mlp.fc2.bias", "visual.norm.weight",
                           "token_embedding.weight", "positional_embedding", "transformer.resblocks.0.attn.in_proj_weight",
                           "transformer.resblocks.1.mlp.c_proj.weight", "ln_final.weight", "text_projection",
                           "image_projection", "logit_scale", "image_mlp.layer1.weight", "image_mlp.bn2.running_var",
                           "image_mlp.layer3.bias"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
  for (const auto& item : names) EXPECT_NE(item.first.rfind("text.", 0), 0u) << "nested text name " << item.first;
}

// SLIP on a BatchNorm tower: the SimCLR views normalise by their own batch statistics, but the
// tower's running statistics (what evaluation uses) are those of the CLIP view alone; the SimCLR
// head's BatchNorms, which only ever see the SimCLR views, still learn theirs.
TEST(Models, SlipTowerRunningStatisticsFollowTheClipView) {
  const ModelConfig config = small_config("slip", "modified_resnet");
  at::manual_seed(1);
  auto slip = std::dynamic_pointer_cast<SlipModelImpl>(create_model(config));
  ASSERT_TRUE(slip);
  at::manual_seed(1);
  auto alone = std::dynamic_pointer_cast<SlipModelImpl>(create_model(config));  // the same weights
  ModelInputs inputs = small_inputs(4, config);
  inputs.aug1 = inputs.aug1 * 3.0 + 2.0;  // views whose statistics differ from the CLIP view's
  inputs.aug2 = inputs.aug2 * 0.5 - 1.0;
  StateDict before;  // state_dict aliases the live tensors
  for (const auto& [name, tensor] : state_dict(*slip)) before[name] = tensor.clone();
  slip->forward(inputs);
  alone->encode_image(inputs.image);  // the CLIP view alone through the tower, in training mode
  const StateDict after = state_dict(*slip), expected = state_dict(*alone);
  int64_t tower_statistics = 0, head_statistics = 0;
  for (const auto& [name, tensor] : after) {
    const bool statistic = name.find("running_") != std::string::npos;
    if (!statistic) continue;
    if (name.rfind("visual.", 0) == 0) {
      ++tower_statistics;
      EXPECT_TRUE(at::equal(tensor, expected.at(name))) << name;
      EXPECT_FALSE(at::equal(tensor, before.at(name))) << name << " never updated";
    } else if (name.rfind("image_mlp.", 0) == 0) {
      ++head_statistics;
      EXPECT_FALSE(at::equal(tensor, before.at(name))) << name << " frozen";
    }
  }
  EXPECT_GT(tower_statistics, 10);
  EXPECT_GT(head_statistics, 0);
  // The momentum is back: a later forward of a SimCLR view alone moves the tower's statistics.
  const at::Tensor mean = after.at("visual.bn1.running_mean").clone();
  slip->encode_image(inputs.aug1);
  EXPECT_FALSE(at::equal(state_dict(*slip).at("visual.bn1.running_mean"), mean));
}

// A modified ResNet reads views of another multiple of 32 (SLIP's ssl.image_size) through its
// positional embedding resized to the smaller grid: the same as a tower built for that size and
// given that embedding. Other sides are refused.
TEST(Models, ModifiedResnetReadsSmallerViewsThroughAResizedPositionalEmbedding) {
  ModelConfig config = small_config("clip", "modified_resnet");
  config.vision.image_size = 64;  // a 2 x 2 grid
  at::manual_seed(2);
  ModifiedResNet tower(config.vision);
  tower->eval();
  config.vision.image_size = 32;  // a 1 x 1 grid
  ModifiedResNet small(config.vision);
  small->eval();
  const at::Tensor table = tower->attnpool->positional_embedding;  // [5, C]
  {
    at::NoGradGuard no_grad;
    for (const auto& [name, tensor] : state_dict(*tower)) {
      if (name != "attnpool.positional_embedding") state_dict(*small).at(name).copy_(tensor);
    }
    // 2 x 2 -> 1 x 1 at the centre: the mean of the four positions (bicubic weights, clamped borders).
    const at::Tensor resized = tower->attnpool->positional_embedding_for(1);
    EXPECT_TRUE(at::allclose(resized[1], table.slice(0, 1).mean(0), 1e-6, 1e-6));
    EXPECT_TRUE(at::equal(resized[0], table[0]));
    small->attnpool->positional_embedding.copy_(resized);
  }
  EXPECT_TRUE(at::equal(tower->attnpool->positional_embedding_for(2), table));
  const at::Tensor images = at::randn({2, 3, 32, 32});
  EXPECT_TRUE(at::allclose(tower->forward(images), small->forward(images), 1e-5, 1e-6));
  EXPECT_EQ(tower->forward(at::randn({2, 3, 64, 64})).sizes(), (std::vector<int64_t>{2, 24}));
  EXPECT_THROW(tower->forward(at::randn({2, 3, 48, 48})), ShapeError);
  EXPECT_THROW(tower->forward(at::randn({2, 3, 64, 32})), ShapeError);
}

TEST(Models, TextPoolingReadsTheEotPositionOnly) {
  const ModelConfig c = small_config("clip");
  auto model = std::dynamic_pointer_cast<ClipModelImpl>(create_model(c));
  at::Tensor tokens = at::full({1, c.text.context_length}, 7, at::kLong);
  tokens[0][3] = c.text.vocab_size - 1;
  const at::Tensor base = model->encode_text(tokens);
  at::Tensor later = tokens.clone();
  later[0][10] = 42;  // after the EOT: invisible through the causal mask
  EXPECT_TRUE(at::allclose(model->encode_text(later), base, 1e-6, 1e-6));
  at::Tensor earlier = tokens.clone();
  earlier[0][1] = 42;  // before the EOT: changes the embedding
  EXPECT_FALSE(at::allclose(model->encode_text(earlier), base, 1e-4, 1e-4));
  // Shorter sequences use the first positions.
  EXPECT_EQ(model->encode_text(tokens.slice(1, 0, 8)).sizes(), (std::vector<int64_t>{1, 16}));
}

TEST(Models, WrongInputsGiveClearErrors) {
  const ModelConfig c = small_config("slip");
  ContrastiveModel model = create_model(c);
  ModelInputs inputs = small_inputs(2, c);
  ModelInputs no_aug = inputs;
  no_aug.aug2 = at::Tensor();
  EXPECT_THROW(
      {
        try {
          model->forward(no_aug);
        } catch (const ShapeError& e) {
          EXPECT_NE(std::string(e.what()).find("needs inputs.aug2"), std::string::npos) << e.what();
          throw;
        }
      },
      ShapeError);
  ModelInputs wrong_size = inputs;
  wrong_size.image = at::randn({2, 3, 48, 48});
  EXPECT_THROW(model->forward(wrong_size), ShapeError);
  ModelInputs float_text = inputs;
  float_text.text = inputs.text.to(at::kFloat);
  EXPECT_THROW(model->forward(float_text), ShapeError);
}

TEST(Models, DropPathIsActiveOnlyInTraining) {
  ModelConfig c = small_config("clip");
  c.vision.drop_path = 0.5;
  VisionTransformer vit(c.vision);
  const at::Tensor images = at::randn({4, 3, 32, 32});
  vit->eval();
  EXPECT_TRUE(at::equal(vit->forward(images), vit->forward(images)));
  vit->train();
  at::manual_seed(1);
  const at::Tensor first = vit->forward(images);
  at::manual_seed(2);
  EXPECT_FALSE(at::allclose(first, vit->forward(images)));
  // Linear schedule: 0 at the first block, the full rate at the last.
  EXPECT_EQ(vit->blocks[0]->as<VitBlock>()->drop_path->rate(), 0.0);
  EXPECT_EQ(vit->blocks[1]->as<VitBlock>()->drop_path->rate(), 0.5);
}

TEST(Models, PatchDropoutThinsTheTokensInTrainingOnly) {
  ModelConfig c = small_config("clip");  // 32 / 16 = 2 x 2 = 4 patches
  c.vision.patch_size = 8;               // 16 patches
  VisionTransformer vit(c.vision);
  vit->set_patch_dropout(0.5);
  const at::Tensor images = at::randn({3, 3, 32, 32});
  vit->train();
  at::manual_seed(5);
  const at::Tensor thinned = vit->forward_tokens(images);
  EXPECT_EQ(thinned.sizes(), (std::vector<int64_t>{3, 1 + 8, 32}));
  // The same draw, applied by hand to the embedded tokens, gives the same tower output.
  at::Tensor x = at::cat({vit->cls_token.expand({3, -1, -1}), vit->patch_embed->forward(images)}, 1) + vit->pos_embed;
  at::manual_seed(5);
  x = drop_patch_tokens(x, 0.5);
  for (const auto& block : *vit->blocks) x = block->as<VitBlock>()->forward(x);
  EXPECT_TRUE(at::allclose(vit->norm->forward(x), thinned, 1e-5, 1e-6));
  vit->eval();
  EXPECT_EQ(vit->forward_tokens(images).size(1), 1 + 16);
  EXPECT_THROW(vit->set_patch_dropout(1.0), ConfigError);
}

TEST(Models, SiglipModelsStartAtLogTenAndMinusTen) {
  ModelConfig c = small_config("clip");
  c.contrastive_loss = "siglip";
  auto model = std::dynamic_pointer_cast<ClipModelImpl>(create_model(c));
  EXPECT_NEAR(model->logit_scale.item<double>(), std::log(10.0), 1e-6);
  ASSERT_TRUE(model->logit_bias.defined());
  EXPECT_EQ(model->logit_bias.item<double>(), -10.0);
  EXPECT_EQ(state_dict(*model).count("logit_bias"), 1u);
  const ModelOutputs out = model->forward(small_inputs(2, c));
  EXPECT_EQ(out.logit_bias.item<double>(), -10.0);
  EXPECT_EQ(model_config_from_json(to_json(c)), c);  // the config remembers the objective
  EXPECT_FALSE(std::dynamic_pointer_cast<ClipModelImpl>(create_model(small_config("clip")))->logit_bias.defined());
  c.family = "simclr";
  EXPECT_THROW(validate(c), ConfigError);  // SigLIP is for the clip and slip families
}

TEST(Models, LogitScaleClampAndExp) {
  auto model = std::dynamic_pointer_cast<ClipModelImpl>(create_model(small_config("clip")));
  {
    torch::NoGradGuard no_grad;
    model->logit_scale.fill_(7.0);
  }
  model->clamp_logit_scale();
  EXPECT_NEAR(model->logit_scale.item<double>(), std::log(100.0), 1e-6);
  ModelOutputs out = model->forward(small_inputs(2, small_config("clip")));
  EXPECT_NEAR(out.logit_scale.item<double>(), 100.0, 1e-3);
}

TEST(Models, ConversionReachesTheSharedTextTower) {
  const ModelConfig c = small_config("clip");
  auto model = std::dynamic_pointer_cast<ClipModelImpl>(create_model(c));
  model->to(at::kDouble);
  EXPECT_EQ(model->text()->positional_embedding.scalar_type(), at::kDouble);
  ModelInputs inputs = small_inputs(2, c);
  inputs.image = inputs.image.to(at::kDouble);
  EXPECT_EQ(model->forward(inputs).text_embed.scalar_type(), at::kDouble);
}

}  // namespace
}  // namespace slipstream
