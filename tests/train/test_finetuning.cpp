// The finetuning pieces: BEiT's layer-wise lr decay (which lr each parameter trains at), the AdamW
// group lr scale it relies on, timm's Mixup/CutMix targets and the soft-target loss against
// hand-computed values, and the classifier's loading of a pre-trained tower by key prefix.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "models/small_configs.h"
#include "slipstream/core/error.h"
#include "slipstream/core/safetensors.h"
#include "slipstream/core/state_dict.h"
#include "slipstream/models/contrastive_models.h"
#include "slipstream/models/image_classifier.h"
#include "slipstream/train/adamw.h"
#include "slipstream/train/layer_decay.h"
#include "slipstream/train/mixup.h"

namespace slipstream {
namespace {

// name -> (lr scale, weight decay) as the groups assign them.
std::map<std::string, std::pair<double, double>> assignment(const std::vector<ParameterGroup>& groups) {
  std::map<std::string, std::pair<double, double>> out;
  for (const ParameterGroup& g : groups) {
    for (const std::string& name : g.names) out[name] = {g.lr_scale, g.weight_decay};
  }
  return out;
}

TEST(LayerDecay, EachLayerTrainsAtDecayToTheDepthAboveIt) {
  VisionConfig vision = testing::small_config("clip").vision;  // a ViT of depth 2
  ASSERT_EQ(vision.depth, 2);
  ImageClassifier model(vision, 5);
  const double d = 0.65;
  const auto a = assignment(layer_decay_parameter_groups(*model, 0.05, d, vision.depth));
  // BEiT: num_layers + 2 = 4 ids, scale d^(3 - id): embeddings 0, blocks.i i + 1, the rest 3.
  EXPECT_DOUBLE_EQ(a.at("visual.cls_token").first, std::pow(d, 3));
  EXPECT_DOUBLE_EQ(a.at("visual.pos_embed").first, std::pow(d, 3));
  EXPECT_DOUBLE_EQ(a.at("visual.patch_embed.proj.weight").first, std::pow(d, 3));
  EXPECT_DOUBLE_EQ(a.at("visual.blocks.0.attn.qkv.weight").first, std::pow(d, 2));
  EXPECT_DOUBLE_EQ(a.at("visual.blocks.0.norm1.weight").first, std::pow(d, 2));
  EXPECT_DOUBLE_EQ(a.at("visual.blocks.1.mlp.fc2.bias").first, d);
  EXPECT_DOUBLE_EQ(a.at("visual.norm.weight").first, 1.0);
  EXPECT_DOUBLE_EQ(a.at("head.weight").first, 1.0);
  // Weight decay: matrices only; never biases, norms, pos_embed or cls_token.
  EXPECT_EQ(a.at("visual.blocks.0.attn.qkv.weight").second, 0.05);
  EXPECT_EQ(a.at("head.weight").second, 0.05);
  EXPECT_EQ(a.at("visual.patch_embed.proj.weight").second, 0.05);
  EXPECT_EQ(a.at("head.bias").second, 0.0);
  EXPECT_EQ(a.at("visual.pos_embed").second, 0.0);
  EXPECT_EQ(a.at("visual.cls_token").second, 0.0);
  EXPECT_EQ(a.at("visual.blocks.1.norm2.weight").second, 0.0);
  EXPECT_EQ(a.size(), model->parameters().size());  // every parameter in exactly one group
  EXPECT_EQ(vit_layer_id("blocks.11.mlp.fc1.weight", 12), 12);
  EXPECT_EQ(vit_layer_id("norm_pre.weight", 12), 0);
  EXPECT_THROW(vit_layer_id("blocks.12.norm1.weight", 12), ConfigError);
}

TEST(LayerDecay, OffGivesOneScaleAndResNetsNeedIt) {
  ImageClassifier resnet(testing::small_config("clip", "modified_resnet").vision, 3);
  for (const ParameterGroup& g : layer_decay_parameter_groups(*resnet, 0.05, 1.0, 0)) EXPECT_EQ(g.lr_scale, 1.0);
  EXPECT_THROW(layer_decay_parameter_groups(*resnet, 0.05, 0.65, 0), ConfigError);
}

TEST(LayerDecay, AdamWStepsEachGroupAtItsScaledLearningRate) {
  // Adam's first step moves every element by lr (sign of the gradient) when the gradient is large
  // against eps: the move of each group is its scaled lr.
  at::Tensor a = at::zeros({4}).requires_grad_(true), b = at::zeros({4}).requires_grad_(true);
  AdamWOptions options;
  options.lr = 0.1;
  AdamW optimizer({ParameterGroup{{"a"}, {a}, 0.0, 1.0}, ParameterGroup{{"b"}, {b}, 0.0, 0.25}}, options);
  (a.sum() + b.sum()).backward();
  optimizer.step();
  EXPECT_TRUE(at::allclose(a.detach(), at::full({4}, -0.1), 1e-6, 1e-7)) << a;
  EXPECT_TRUE(at::allclose(b.detach(), at::full({4}, -0.025), 1e-6, 1e-7)) << b;
}

TEST(Mixup, TargetsAreSmoothedOneHotsBlendedWithTheReversedBatch) {
  const at::Tensor labels = at::tensor(std::vector<int64_t>{0, 2, 1, 2});
  const at::Tensor t = mixup_target(labels, 4, 0.7, 0.1);  // [4, 4]
  const double off = 0.1 / 4, on = 1 - 0.1 + off;
  // Row 0: label 0 weighted 0.7, the reversed batch's row 0 is label 2, weighted 0.3.
  EXPECT_NEAR(t[0][0].item<double>(), 0.7 * on + 0.3 * off, 1e-6);
  EXPECT_NEAR(t[0][2].item<double>(), 0.7 * off + 0.3 * on, 1e-6);
  EXPECT_NEAR(t[0][1].item<double>(), off, 1e-6);
  // Row 1: label 2 and the reversed row's label 1.
  EXPECT_NEAR(t[1][2].item<double>(), 0.7 * on + 0.3 * off, 1e-6);
  EXPECT_NEAR(t[1][1].item<double>(), 0.7 * off + 0.3 * on, 1e-6);
  EXPECT_TRUE(at::allclose(t.sum(1), at::ones({4}), 1e-6, 1e-6));
  // Unmixed: label smoothing alone.
  const at::Tensor plain = mixup_target(labels, 4, 1.0, 0.1);
  EXPECT_NEAR(plain[3][2].item<double>(), on, 1e-6);
  EXPECT_NEAR(plain[3][0].item<double>(), off, 1e-6);
}

TEST(Mixup, MixupBlendsAndCutMixPastesTheReversedBatch) {
  at::manual_seed(0);
  const at::Tensor images = at::randn({4, 3, 8, 10});
  const at::Tensor labels = at::tensor(std::vector<int64_t>{0, 1, 2, 3});
  MixDraw blend;
  blend.lam = 0.6;
  const MixedBatch mixed = mix_batch(images, labels, blend, 4, 0.0);
  EXPECT_TRUE(at::allclose(mixed.images[1], 0.6 * images[1] + 0.4 * images[2], 1e-5, 1e-6));
  MixDraw box;
  box.cutmix = true;
  box.top = 2, box.bottom = 6, box.left = 1, box.right = 6;
  box.lam = 1.0 - 20.0 / 80.0;
  const MixedBatch cut = mix_batch(images, labels, box, 4, 0.0);
  EXPECT_TRUE(at::equal(cut.images[0].narrow(1, 2, 4).narrow(2, 1, 5), images[3].narrow(1, 2, 4).narrow(2, 1, 5)));
  EXPECT_TRUE(at::equal(cut.images[0].narrow(1, 0, 2), images[0].narrow(1, 0, 2)));  // outside the box: itself
  EXPECT_NEAR(cut.targets[0][0].item<double>(), 0.75, 1e-6);
  EXPECT_NEAR(cut.targets[0][3].item<double>(), 0.25, 1e-6);
  EXPECT_THROW(mix_batch(images.narrow(0, 0, 3), labels.narrow(0, 0, 3), blend, 4, 0.0), ShapeError);
}

TEST(Mixup, DrawsFollowTheOptions) {
  std::mt19937_64 rng(3);
  MixupOptions options;  // mixup 0.8, CutMix 1.0, switch 0.5
  int cutmixes = 0;
  const int draws = 4000;
  for (int i = 0; i < draws; ++i) {
    const MixDraw d = sample_mix(options, 224, 224, rng);
    ASSERT_GE(d.lam, 0.0);
    ASSERT_LE(d.lam, 1.0);
    if (d.cutmix) {
      ++cutmixes;
      // lam corrected to the share of the image outside the box
      const double area = double((d.bottom - d.top) * (d.right - d.left));
      ASSERT_NEAR(d.lam, 1.0 - area / (224.0 * 224.0), 1e-12);
      ASSERT_TRUE(d.top >= 0 && d.top <= d.bottom && d.bottom <= 224 && d.left >= 0 && d.right <= 224);
    }
  }
  EXPECT_NEAR(cutmixes / double(draws), 0.5, 0.03);
  options.prob = 0.0;
  EXPECT_EQ(sample_mix(options, 224, 224, rng).lam, 1.0);
  MixupOptions only_mixup;
  only_mixup.cutmix_alpha = 0.0;
  double mean = 0.0;
  for (int i = 0; i < draws; ++i) {
    const MixDraw d = sample_mix(only_mixup, 32, 32, rng);
    EXPECT_FALSE(d.cutmix);
    mean += d.lam / draws;
  }
  EXPECT_NEAR(mean, 0.5, 0.02);  // Beta(0.8, 0.8) has mean 1/2
}

TEST(Mixup, SoftTargetCrossEntropyIsTheExpectedNegativeLogLikelihood) {
  const at::Tensor logits = at::tensor(std::vector<float>{2.0f, 0.0f, -1.0f, 0.5f, 0.5f, 0.5f}).reshape({2, 3});
  const at::Tensor targets = at::tensor(std::vector<float>{0.8f, 0.1f, 0.1f, 0.0f, 1.0f, 0.0f}).reshape({2, 3});
  const double z0 = std::log(std::exp(2.0) + 1.0 + std::exp(-1.0));
  const double row0 = -(0.8 * (2.0 - z0) + 0.1 * (0.0 - z0) + 0.1 * (-1.0 - z0));
  const double row1 = std::log(3.0);
  EXPECT_NEAR(soft_target_cross_entropy(logits, targets).item<double>(), (row0 + row1) / 2.0, 1e-6);
}

TEST(ImageClassifier, LoadsThePretrainedTowerByPrefixAndInitialisesTheHeadSmall) {
  const ModelConfig config = testing::small_config("slip");
  ContrastiveModel pretrained = create_model(config);
  ImageClassifier classifier(config.vision, 7);
  EXPECT_LT(classifier->head->weight.abs().max().item<double>(), 0.001 * 0.02 * 8);  // x init_scale 0.001
  EXPECT_EQ(classifier->head->bias.abs().sum().item<double>(), 0.0);
  const std::string folder = ::testing::TempDir() + "/slipstream_classifier";
  std::filesystem::create_directories(folder);
  // A DDP-style checkpoint: every name under module.
  StateDict weights;
  for (const auto& [name, tensor] : state_dict(*pretrained)) weights["module." + name] = tensor;
  save_safetensors(folder + "/ddp.safetensors", weights);
  load_image_tower(*classifier, folder + "/ddp.safetensors", "");  // finds module.visual.
  const StateDict loaded = state_dict(*classifier);
  for (const auto& [name, tensor] : state_dict(*pretrained->visual())) {
    EXPECT_TRUE(at::equal(loaded.at("visual." + name), tensor)) << name;
  }
  EXPECT_THROW(load_image_tower(*classifier, folder + "/ddp.safetensors", "encoder."), ConfigError);
  const at::Tensor logits = classifier->forward(at::randn({2, 3, 32, 32}));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 7}));
}

}  // namespace
}  // namespace slipstream
