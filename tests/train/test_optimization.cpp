// The optimisation pieces of pre-training: SLIP's schedule, the parameter groups, the fused AdamW
// against LibTorch's reference torch::optim::AdamW, and fp16 loss scaling.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <cmath>
#include <limits>

#include "slipstream/core/error.h"
#include "slipstream/train/adamw.h"
#include "slipstream/train/grad_scaler.h"
#include "slipstream/train/lr_schedule.h"
#include "slipstream/train/sgd.h"
#include "slipstream/train/tensorboard_writer.h"

namespace slipstream {
namespace {

TEST(CosineSchedule, WarmsUpLinearlyThenFollowsTheHalfCosine) {
  // SLIP: cosine_scheduler(1.0, 0.0, epochs=2, niter_per_ep=3, warmup_epochs=1, start_warmup_value=0.25)
  const std::vector<double> s = cosine_schedule(1.0, 0.0, 2, 3, 1, 0.25);
  ASSERT_EQ(s.size(), 6u);
  EXPECT_DOUBLE_EQ(s[0], 0.25);  // np.linspace(0.25, 1.0, 3)
  EXPECT_DOUBLE_EQ(s[1], 0.625);
  EXPECT_DOUBLE_EQ(s[2], 1.0);
  EXPECT_DOUBLE_EQ(s[3], 1.0);  // 0.5 * (1 + cos(0))
  EXPECT_DOUBLE_EQ(s[4], 0.5 * (1.0 + std::cos(M_PI / 3.0)));
  EXPECT_DOUBLE_EQ(s[5], 0.5 * (1.0 + std::cos(2.0 * M_PI / 3.0)));
  // No warmup: the cosine starts at the base value and never reaches the final one.
  const std::vector<double> plain = cosine_schedule(3e-3, 1e-5, 25, 4, 0, 1e-6);
  EXPECT_DOUBLE_EQ(plain.front(), 3e-3);
  for (size_t i = 1; i < plain.size(); ++i) EXPECT_LT(plain[i], plain[i - 1]);
  EXPECT_GT(plain.back(), 1e-5);
  EXPECT_THROW(cosine_schedule(1.0, 0.0, 2, 3, 3, 0.0), ConfigError);
  EXPECT_THROW(cosine_schedule(1.0, 0.0, 2, 0, 0, 0.0), ConfigError);
}

struct TinyNet : torch::nn::Module {
  TinyNet() {
    fc = register_module("fc", torch::nn::Linear(4, 3));
    ln_post = register_module("ln_post", torch::nn::LayerNorm(torch::nn::LayerNormOptions({3})));
    proj = register_parameter("text_projection", at::randn({3, 2}));
    scale = register_parameter("logit_scale", at::ones({}));
    frozen = register_parameter("frozen", at::ones({2, 2}), /*requires_grad=*/false);
  }
  at::Tensor forward(const at::Tensor& x) { return at::matmul(ln_post->forward(fc->forward(x)), proj) * scale; }
  torch::nn::Linear fc{nullptr};
  torch::nn::LayerNorm ln_post{nullptr};
  at::Tensor proj, scale, frozen;
};

TEST(ParameterGroups, SplitAsSlipDoes) {
  TinyNet net;
  const std::vector<ParameterGroup> groups = slip_parameter_groups(net, 0.1);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].weight_decay, 0.1);
  EXPECT_EQ(groups[0].names, (std::vector<std::string>{"text_projection", "fc.weight"}));
  EXPECT_EQ(groups[1].weight_decay, 0.0);
  EXPECT_EQ(groups[1].names, (std::vector<std::string>{"logit_scale", "fc.bias", "ln_post.weight", "ln_post.bias"}));
}

void fill_gradients(TinyNet& net, int step) {
  at::manual_seed(100 + step);
  net.zero_grad();
  const at::Tensor x = at::randn({5, 4});
  net.forward(x).pow(2).sum().backward();
}

void copy_parameters(const TinyNet& from, TinyNet& to) {
  at::NoGradGuard no_grad;
  const auto source = from.parameters();
  auto target = to.parameters();
  for (size_t i = 0; i < source.size(); ++i) target[i].copy_(source[i]);
}

TEST(AdamW, FusedStepsEqualLibTorchsAdamWWithSlipsGroups) {
  at::manual_seed(0);
  TinyNet ours, reference;
  copy_parameters(reference, ours);
  AdamWOptions options;
  options.lr = 1e-2;
  AdamW optimizer(slip_parameter_groups(ours, 0.5), options);
  std::vector<torch::optim::OptimizerParamGroup> reference_groups;
  for (const ParameterGroup& group : slip_parameter_groups(reference, 0.5)) {
    auto group_options = std::make_unique<torch::optim::AdamWOptions>(1e-2);
    group_options->betas({0.9, 0.98}).eps(1e-8).weight_decay(group.weight_decay);
    reference_groups.emplace_back(group.parameters, std::move(group_options));
  }
  torch::optim::AdamW reference_optimizer(reference_groups, torch::optim::AdamWOptions(1e-2));
  for (int step = 0; step < 6; ++step) {
    fill_gradients(ours, step);
    fill_gradients(reference, step);
    optimizer.step();
    reference_optimizer.step();
  }
  const auto ours_named = ours.named_parameters();
  const auto reference_named = reference.named_parameters();
  for (const auto& item : reference_named) {
    EXPECT_TRUE(at::allclose(ours_named[item.key()], item.value(), 1e-6, 1e-7)) << item.key();
  }
  EXPECT_TRUE(at::equal(ours.frozen, at::ones({2, 2})));
}

TEST(Sgd, FusedMomentumStepsEqualLibTorchsSgd) {
  for (const bool nesterov : {false, true}) {
    at::manual_seed(4);
    TinyNet ours, reference;
    copy_parameters(reference, ours);
    SgdOptions options;
    options.lr = 1e-3;
    options.nesterov = nesterov;
    Sgd optimizer(slip_parameter_groups(ours, 1e-3), options);
    std::vector<torch::optim::OptimizerParamGroup> reference_groups;
    for (const ParameterGroup& group : slip_parameter_groups(reference, 1e-3)) {
      auto group_options = std::make_unique<torch::optim::SGDOptions>(1e-3);
      group_options->momentum(0.9).nesterov(nesterov).weight_decay(group.weight_decay);
      reference_groups.emplace_back(group.parameters, std::move(group_options));
    }
    torch::optim::SGD reference_optimizer(reference_groups, torch::optim::SGDOptions(1e-3));
    for (int step = 0; step < 5; ++step) {
      fill_gradients(ours, step);
      fill_gradients(reference, step);
      optimizer.step();
      reference_optimizer.step();
    }
    for (const auto& item : reference.named_parameters()) {
      EXPECT_TRUE(at::allclose(ours.named_parameters()[item.key()], item.value(), 1e-6, 1e-7))
          << item.key() << (nesterov ? " (nesterov)" : "");
      EXPECT_TRUE(item.value().isfinite().all().item<bool>()) << item.key();
    }
    EXPECT_EQ(optimizer.state().size(), 6u);  // one momentum buffer per trained parameter
  }
}

TEST(AdamW, StateRoundTripContinuesIdentically) {
  at::manual_seed(1);
  TinyNet a, b;
  copy_parameters(a, b);
  AdamW first(slip_parameter_groups(a, 0.1), {});
  for (int step = 0; step < 3; ++step) fill_gradients(a, step), first.step();
  // b: the same three steps, then a fresh optimizer restored from a's state.
  AdamW warmup(slip_parameter_groups(b, 0.1), {});
  for (int step = 0; step < 3; ++step) fill_gradients(b, step), warmup.step();
  AdamW restored(slip_parameter_groups(b, 0.1), {});
  StateDict state = first.state();
  EXPECT_EQ(state.size(), 3u * 6u);
  EXPECT_EQ(state.at("step/fc.weight").item<float>(), 3.0f);
  restored.load_state(state);
  for (int step = 3; step < 5; ++step) {
    fill_gradients(a, step), first.step();
    fill_gradients(b, step), restored.step();
  }
  for (const auto& item : a.named_parameters()) EXPECT_TRUE(at::equal(item.value(), b.named_parameters()[item.key()])) << item.key();
  state["exp_avg/no.such.parameter"] = at::zeros({1});
  EXPECT_THROW(restored.load_state(state), StateDictError);
}

TEST(GradScaler, SkipsAStepWithInfiniteGradientsAndRecovers) {
  at::manual_seed(2);
  TinyNet net;
  AdamW optimizer(slip_parameter_groups(net, 0.1), {});
  GradScalerOptions options;
  options.init_scale = 1024.0;
  options.growth_interval = 2;
  GradScaler scaler(options);

  // A clean step: gradients of the scaled loss are unscaled by the fused step.
  const at::Tensor x = at::randn({5, 4});
  scaler.scale(net.forward(x).pow(2).sum()).backward();
  const at::Tensor before = net.fc->weight.detach().clone();
  EXPECT_TRUE(scaler.step(optimizer));
  EXPECT_FALSE(at::equal(before, net.fc->weight));
  EXPECT_EQ(scaler.current_scale(), 1024.0);
  optimizer.zero_grad();

  // An infinite gradient: nothing moves, the step count stays, the scale halves.
  scaler.scale(net.forward(x).pow(2).sum()).backward();
  net.fc->weight.mutable_grad()[0][0] = std::numeric_limits<float>::infinity();
  const at::Tensor frozen = net.fc->weight.detach().clone();
  const float step_count = optimizer.state().at("step/fc.weight").item<float>();
  EXPECT_FALSE(scaler.step(optimizer));
  EXPECT_TRUE(at::equal(frozen, net.fc->weight));
  EXPECT_EQ(optimizer.state().at("step/fc.weight").item<float>(), step_count);
  EXPECT_EQ(scaler.current_scale(), 512.0);
  optimizer.zero_grad();

  // Two clean steps in a row (growth_interval): the scale doubles again, and training moves on.
  for (int i = 0; i < 2; ++i) {
    scaler.scale(net.forward(x).pow(2).sum()).backward();
    EXPECT_TRUE(scaler.step(optimizer));
    optimizer.zero_grad();
  }
  EXPECT_EQ(scaler.current_scale(), 1024.0);
  EXPECT_TRUE(net.fc->weight.isfinite().all().item<bool>());

  // The scale and its growth count survive a checkpoint.
  GradScaler restored(options);
  restored.load_state(scaler.state());
  EXPECT_EQ(restored.current_scale(), 1024.0);
}

TEST(TensorBoardWriter, FramesRecordsWithCastagnoliChecksums) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);  // the CRC-32C check value
  EXPECT_EQ(crc32c("", 0), 0u);
}

}  // namespace
}  // namespace slipstream
