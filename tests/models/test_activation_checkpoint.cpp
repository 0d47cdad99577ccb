// Activation checkpointing (--grad-checkpointing): the same loss and the same gradients as without
// it, for the ViT (drop path on: the recomputation replays the random draws), the modified ResNet
// (BatchNorm's running statistics and batch counts updated once) and the text tower.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <torch/csrc/autograd/function.h>

#include <map>
#include <set>
#include <string>

#include "models/small_configs.h"
#include "slipstream/models/contrastive_models.h"
#include "slipstream/models/registry.h"

namespace slipstream {
namespace {

// The checkpointed blocks in a result's autograd graph (proof that checkpointing took place).
int64_t checkpoint_nodes(const at::Tensor& output) {
  std::vector<torch::autograd::Node*> stack = {output.grad_fn().get()};
  std::set<torch::autograd::Node*> seen;
  int64_t count = 0;
  while (!stack.empty()) {
    torch::autograd::Node* node = stack.back();
    stack.pop_back();
    if (node == nullptr || !seen.insert(node).second) continue;
    if (node->name().find("CheckpointFunction") != std::string::npos) ++count;
    for (const auto& edge : node->next_edges()) stack.push_back(edge.function.get());
  }
  return count;
}

struct StepResult {
  double loss = 0.0;
  int64_t checkpointed_blocks = 0;
  std::map<std::string, at::Tensor> gradients;  // name -> gradient
  std::map<std::string, at::Tensor> buffers;    // BatchNorm running statistics after the step
};

// One training-mode forward and backward of a CLIP model from fixed weights and inputs.
StepResult step(const ModelConfig& config, bool checkpointing) {
  at::manual_seed(7);
  ContrastiveModel model = create_model(config);
  auto* clip = dynamic_cast<ClipModelImpl*>(model.get());
  model->set_grad_checkpointing(checkpointing);
  model->train();
  at::manual_seed(11);  // the inputs and the drop-path draws: the same in both runs
  const at::Tensor images = at::randn({4, 3, config.vision.image_size, config.vision.image_size});
  const at::Tensor tokens = at::randint(1, config.text.vocab_size - 1, {4, config.text.context_length}, at::kLong);
  const at::Tensor image_weights = at::randn({4, config.embed_dim});
  const at::Tensor text_weights = at::randn({4, config.embed_dim});
  const at::Tensor loss = (clip->encode_image(images) * image_weights).sum() + (clip->encode_text(tokens) * text_weights).sum();
  StepResult result;
  result.checkpointed_blocks = checkpoint_nodes(loss);
  loss.backward();
  result.loss = loss.item<double>();
  for (const auto& parameter : model->named_parameters()) {
    if (parameter.value().grad().defined()) result.gradients[parameter.key()] = parameter.value().grad().clone();
  }
  for (const auto& buffer : model->named_buffers()) result.buffers[buffer.key()] = buffer.value().clone();
  return result;
}

void expect_same_step(const ModelConfig& config) {
  const StepResult plain = step(config, false);
  const StepResult checkpointed = step(config, true);
  EXPECT_EQ(plain.loss, checkpointed.loss) << config.name;  // the forward is the same computation
  EXPECT_EQ(plain.checkpointed_blocks, 0);
  const int64_t vision_blocks = config.vision.type == "vit" ? config.vision.depth : 4;  // ViT blocks or ResNet stages
  EXPECT_EQ(checkpointed.checkpointed_blocks, vision_blocks + config.text.layers) << config.name;
  ASSERT_EQ(plain.gradients.size(), checkpointed.gradients.size()) << config.name;
  double worst = 0.0;
  for (const auto& [name, gradient] : plain.gradients) {
    ASSERT_TRUE(checkpointed.gradients.count(name)) << name;
    worst = std::max(worst, (gradient - checkpointed.gradients.at(name)).abs().max().item<double>());
  }
  std::printf("[checkpointing] %s: %zu gradients, max |diff| %.3g\n", config.name.c_str(), plain.gradients.size(), worst);
  EXPECT_LE(worst, 1e-6) << config.name;
  for (const auto& [name, buffer] : plain.buffers) {
    EXPECT_TRUE(at::equal(buffer, checkpointed.buffers.at(name))) << config.name << " " << name;
  }
}

TEST(ActivationCheckpointing, VitGradientsEqualWithDropPath) {
  ModelConfig config = testing::small_config("clip");
  config.vision.depth = 3;
  config.vision.drop_path = 0.2;
  expect_same_step(config);
}

TEST(ActivationCheckpointing, ModifiedResnetGradientsAndBatchNormStatisticsEqual) {
  expect_same_step(testing::small_config("clip", "modified_resnet"));
}

TEST(ActivationCheckpointing, OffWithoutGradients) {
  ModelConfig config = testing::small_config("clip");
  at::manual_seed(3);
  ContrastiveModel model = create_model(config);
  model->set_grad_checkpointing(true);
  auto* clip = dynamic_cast<ClipModelImpl*>(model.get());
  const at::Tensor images = at::randn({2, 3, 32, 32});
  at::Tensor with_grad = clip->encode_image(images);
  model->set_grad_checkpointing(false);
  at::NoGradGuard no_grad;
  EXPECT_TRUE(at::allclose(with_grad.detach(), clip->encode_image(images), 0.0, 0.0));
}

}  // namespace
}  // namespace slipstream
