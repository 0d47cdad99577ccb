// DeCLIP's model side: BERT masking of framed captions, DeCLIP's token-id layout, the registered
// DECLIP models and one training forward's outputs.
#include <gtest/gtest.h>

#include "models/small_configs.h"
#include "slipstream/core/error.h"
#include "slipstream/models/declip_model.h"
#include "slipstream/models/masked_tokens.h"
#include "slipstream/models/registry.h"

namespace slipstream {
namespace {

// [B, L] captions: SOT, `length` BPE ids, EOT, zero padding.
at::Tensor framed_captions(int64_t batch, int64_t context, int64_t length) {
  at::Tensor tokens = at::zeros({batch, context}, at::kLong);
  tokens.select(1, 0).fill_(49406);
  tokens.narrow(1, 1, length).copy_(at::randint(1, 40000, {batch, length}, at::kLong));
  tokens.select(1, length + 1).fill_(49407);
  return tokens;
}

TEST(MaskedTokens, FollowsBertsProportionsAndSparesSpecialsAndPadding) {
  at::manual_seed(3);
  const at::Tensor tokens = framed_captions(2000, 32, 20);
  const MaskedTokens masked = mask_tokens(tokens);
  const at::Tensor chosen = masked.labels.ne(-100);
  // Only positions 1..20 can be chosen: SOT (0), EOT (21) and padding never are.
  EXPECT_FALSE(chosen.narrow(1, 0, 1).any().item<bool>());
  EXPECT_FALSE(chosen.narrow(1, 21, 11).any().item<bool>());
  const double share = chosen.sum().item<double>() / (2000.0 * 20.0);
  EXPECT_NEAR(share, 0.15, 0.01);
  EXPECT_TRUE(at::equal(masked.labels.index({chosen}), tokens.index({chosen})));
  const at::Tensor replaced = masked.tokens.eq(kMaskTokenId);
  const at::Tensor randomised = masked.tokens.ne(tokens).logical_and(replaced.logical_not());
  const at::Tensor kept = chosen.logical_and(masked.tokens.eq(tokens));
  const double n = chosen.sum().item<double>();
  EXPECT_NEAR(replaced.sum().item<double>() / n, 0.8, 0.02);
  EXPECT_NEAR(randomised.sum().item<double>() / n, 0.1, 0.015);
  EXPECT_NEAR(kept.sum().item<double>() / n, 0.1, 0.015);
  EXPECT_FALSE(randomised.logical_and(chosen.logical_not()).any().item<bool>());  // only chosen positions change
  EXPECT_TRUE(masked.tokens.index({randomised}).lt(49406).all().item<bool>()) << "random replacements must be BPE ids";
}

TEST(DeclipModel, TokenLayoutKeepsEotTheLargestRow) {
  ModelConfig c = testing::small_config("clip");
  c.family = "declip";
  c.text.vocab_size = 49409;
  c.text.token_layout = "declip";
  auto model = std::dynamic_pointer_cast<DeclipModelImpl>(create_model(c));
  const at::Tensor ids = at::tensor(std::vector<int64_t>{49406, 5, kMaskTokenId, 49407, 0}, at::kLong).view({1, 5});
  EXPECT_TRUE(at::equal(model->text()->embedding_ids(ids), at::tensor(std::vector<int64_t>{49407, 5, 49406, 49408, 0}, at::kLong).view({1, 5})));
  // Pooling reads the EOT position (3), not the mask's.
  const at::Tensor features = at::randn({1, 5, c.text.width});
  EXPECT_TRUE(at::allclose(model->text()->project_eot(features, ids),
                           features.select(1, 3).matmul(model->text()->text_projection)));
  c.text.token_layout = "clip";
  EXPECT_THROW(validate(c), ConfigError);  // DeCLIP needs <|mask|>
}

TEST(DeclipModel, RegisteredShapesAndATrainingForward) {
  for (const char* name : {"DECLIP_VITB16", "DECLIP_VITB32", "DECLIP_RN50"}) {
    const ModelConfig c = model_config(name);
    EXPECT_EQ(c.family, "declip") << name;
    EXPECT_EQ(c.text.vocab_size, 49409) << name;
  }
  EXPECT_EQ(model_config("DECLIP_VITB32").vision.patch_size, 32);

  ModelConfig c = testing::small_config("clip");
  c.family = "declip";
  c.text.vocab_size = 49409;
  c.text.token_layout = "declip";
  c.text.context_length = 32;
  auto model = std::dynamic_pointer_cast<DeclipModelImpl>(create_model(c));
  at::manual_seed(0);
  ModelInputs inputs;
  inputs.aug1 = at::randn({6, 3, 32, 32});
  inputs.aug2 = at::randn({6, 3, 32, 32});
  inputs.text = framed_captions(6, 32, 20);
  inputs.text_aug = framed_captions(6, 32, 18);
  model->train();
  const ModelOutputs out = model->forward(inputs);
  EXPECT_EQ(out.image_embed.sizes(), (std::vector<int64_t>{6, 16}));
  EXPECT_EQ(out.image_embed_2.sizes(), (std::vector<int64_t>{6, 16}));
  EXPECT_EQ(out.text_aug_embed.sizes(), (std::vector<int64_t>{6, 16}));
  EXPECT_EQ(out.simsiam_p1.sizes(), (std::vector<int64_t>{6, 1024}));
  EXPECT_EQ(out.simsiam_z2.sizes(), (std::vector<int64_t>{6, 1024}));
  EXPECT_GT(out.mlm_labels.size(0), 0);
  EXPECT_EQ(out.mlm_logits.sizes(), (std::vector<int64_t>{out.mlm_labels.size(0), 49409}));
  EXPECT_NEAR(out.logit_scale.item<double>(), 1.0 / 0.07, 1e-3);
  model->eval();
  const ModelOutputs evaluated = model->forward(inputs);
  EXPECT_EQ(evaluated.mlm_labels.size(0), 0);  // no masking outside training
  EXPECT_TRUE(at::allclose(evaluated.text_embed, model->encode_text(inputs.text), 1e-5, 1e-6));
  ModelInputs missing = inputs;
  missing.text_aug = at::Tensor();
  EXPECT_THROW(model->forward(missing), ShapeError);
  // Its clamp is DeCLIP's: log-scale in [3, 6].
  model->clamp_logit_scale();
  EXPECT_EQ(model->logit_scale.item<double>(), 3.0);
}

}  // namespace
}  // namespace slipstream
