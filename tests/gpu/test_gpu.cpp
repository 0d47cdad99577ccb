// The CUDA paths (ctest label gpu), each test skipped where no CUDA device is found:
//   - every family's model (ViT and modified-ResNet towers), forward, loss and backward on the GPU
//     against the CPU in fp32 with TF32 off: outputs and every gradient within 1e-3;
//   - the losses under bf16 and fp16 autocast against fp32 (stated tolerances);
//   - NCCL at world size 1: all_gather_with_grad and the bucketed gradient all-reduce;
//   - page-locked batches copied without blocking;
//   - a short training run on the GPU saved after 3 steps, resumed in a fresh model and optimizer,
//     ending with the weights of an uninterrupted run (deterministic algorithms where CUDA has
//     them; within 1e-6 where an op has none);
//   - the same training steps replayed from a CUDA graph (--cuda-graphs) and run eagerly, equal.
// Built with the core alone (models, losses, weights I/O, the distributed layer and the step
// pieces), so it builds on a bare GPU host too.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/nn/modules/linear.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "models/small_configs.h"
#include "slipstream/core/safetensors.h"
#include "slipstream/core/state_dict.h"
#include "slipstream/dist/collectives.h"
#include "slipstream/dist/environment.h"
#include "slipstream/dist/gradient_sync.h"
#include "slipstream/dist/process_group.h"
#include "slipstream/losses/slip_loss.h"
#include "slipstream/models/registry.h"
#include "slipstream/train/adamw.h"
#include "slipstream/train/autocast.h"
#include "slipstream/train/cuda_graph_step.h"

namespace slipstream {
namespace {

#define REQUIRE_CUDA()                                                   \
  do {                                                                   \
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";  \
  } while (0)

const at::Device kCuda(at::kCUDA, 0);

// fp32 on the GPU as on the CPU: no TF32 in matmuls or convolutions.
class ExactFp32 {
 public:
  ExactFp32() : cublas_(at::globalContext().allowTF32CuBLAS()), cudnn_(at::globalContext().allowTF32CuDNN()) {
    at::globalContext().setAllowTF32CuBLAS(false);
    at::globalContext().setAllowTF32CuDNN(false);
  }
  ~ExactFp32() {
    at::globalContext().setAllowTF32CuBLAS(cublas_);
    at::globalContext().setAllowTF32CuDNN(cudnn_);
  }

 private:
  bool cublas_, cudnn_;
};

ModelInputs inputs_for(const ModelConfig& c, int64_t batch, uint64_t seed) {
  at::manual_seed(seed);
  ModelInputs inputs;
  inputs.image = at::randn({batch, 3, c.vision.image_size, c.vision.image_size});
  inputs.aug1 = at::randn({batch, 3, c.vision.image_size, c.vision.image_size});
  inputs.aug2 = at::randn({batch, 3, c.vision.image_size, c.vision.image_size});
  at::Tensor text = at::randint(1, c.text.vocab_size - 2, {batch, c.text.context_length}, at::kLong);
  for (int64_t i = 0; i < batch; ++i) text[i][3 + i % 5] = c.text.vocab_size - 1;  // the largest id: EOT
  inputs.text = text;
  inputs.text_aug = text.clone();
  return inputs;
}

ModelInputs to_device(const ModelInputs& in, const at::Device& device) {
  ModelInputs out;
  for (auto field : {&ModelInputs::image, &ModelInputs::text, &ModelInputs::aug1, &ModelInputs::aug2, &ModelInputs::text_aug}) {
    if ((in.*field).defined()) out.*field = (in.*field).to(device);
  }
  return out;
}

double max_difference(const at::Tensor& a, const at::Tensor& b) {
  return (a.detach().cpu().to(at::kDouble) - b.detach().cpu().to(at::kDouble)).abs().max().item<double>();
}

TEST(GpuModels, ForwardLossAndBackwardOnCudaEqualTheCpuInFp32) {
  REQUIRE_CUDA();
  ExactFp32 exact;
  for (const std::string family : {"clip", "simclr", "slip"}) {
    for (const std::string tower : {"vit", "modified_resnet"}) {
      ModelConfig config = testing::small_config(family, tower);
      at::manual_seed(0);
      ContrastiveModel cpu = create_model(config);
      ContrastiveModel gpu = create_model(config);
      load_state_dict(*gpu, state_dict(*cpu), /*strict=*/true);
      gpu->to(kCuda);
      const auto loss = create_loss(family, LossOptions{});
      const ModelInputs inputs = inputs_for(config, 6, 1);
      const LossOutput on_cpu = loss->forward(cpu->forward(inputs));
      const LossOutput on_gpu = loss->forward(gpu->forward(to_device(inputs, kCuda)));
      on_cpu.loss.backward();
      on_gpu.loss.backward();
      const std::string what = family + " " + tower;
      EXPECT_LE(max_difference(on_cpu.loss, on_gpu.loss), 1e-3) << what;
      const auto cpu_parameters = cpu->named_parameters(), gpu_parameters = gpu->named_parameters();
      for (const auto& item : cpu_parameters) {
        const at::Tensor& grad = item.value().grad();
        const at::Tensor& other = gpu_parameters[item.key()].grad();
        ASSERT_EQ(grad.defined(), other.defined()) << what << " " << item.key();
        if (grad.defined()) EXPECT_LE(max_difference(grad, other), 1e-3) << what << " " << item.key();
      }
    }
  }
}

TEST(GpuLosses, AutocastBf16AndFp16AgainstFp32) {
  REQUIRE_CUDA();
  ExactFp32 exact;
  // Stated tolerances on the loss value (relative): bf16 keeps 8 mantissa bits, fp16 11.
  const std::vector<std::pair<at::ScalarType, double>> precisions = {{at::kBFloat16, 2e-2}, {at::kHalf, 4e-3}};
  for (const std::string family : {"clip", "slip"}) {
    for (const std::string loss_name : {"clip", "siglip"}) {
      if (family == "slip" && loss_name == "siglip") continue;
      ModelConfig config = testing::small_config(family, "vit");
      config.contrastive_loss = loss_name;
      at::manual_seed(0);
      ContrastiveModel model = create_model(config);
      model->to(kCuda);
      LossOptions options;
      options.contrastive = loss_name;
      const auto loss = create_loss(family, options);
      const ModelInputs inputs = to_device(inputs_for(config, 8, 2), kCuda);
      const double reference = loss->forward(model->forward(inputs)).loss.item<double>();
      for (const auto& [dtype, tolerance] : precisions) {
        double value = 0.0;
        {
          AutocastScope autocast(at::kCUDA, dtype);
          value = loss->forward(model->forward(inputs)).loss.item<double>();
        }
        EXPECT_NEAR(value, reference, tolerance * std::abs(reference))
            << family << " " << loss_name << " " << c10::toString(dtype);
      }
    }
  }
}

TEST(GpuDistributed, NcclAtWorldSizeOneGathersWithGradientAndAveragesBuckets) {
  REQUIRE_CUDA();
  DistributedEnvironment environment;  // rank 0 of 1
  environment.master_port = 27000 + static_cast<int>(::getpid() % 1000);
  const auto group = ProcessGroup::connect(environment, kCuda, std::chrono::seconds(60));
  EXPECT_EQ(group->backend_name(), "nccl");
  const at::Tensor features = at::randn({4, 8}, at::TensorOptions(kCuda).requires_grad(true));
  const at::Tensor gathered = all_gather_with_grad(features, *group);  // [1 * 4, 8]
  EXPECT_TRUE(at::equal(gathered, features));
  (gathered * 3).sum().backward();
  EXPECT_TRUE(at::allclose(features.grad(), at::full_like(features, 3)));

  torch::nn::Linear layer(32, 32);
  layer->to(kCuda);
  GradientSynchronizer sync(group, layer->parameters(), /*bucket_bytes=*/1024);  // several buckets
  EXPECT_GE(sync.bucket_count(), 2);
  layer->forward(at::randn({5, 32}, kCuda)).pow(2).sum().backward();
  const at::Tensor before = layer->weight.grad().clone();
  sync.finish();
  EXPECT_TRUE(at::allclose(layer->weight.grad(), before)) << "the mean over one rank is the gradient itself";
}

TEST(GpuData, PinnedBatchesCopyWithoutBlocking) {
  REQUIRE_CUDA();
  const at::Tensor batch = at::randn({64, 3, 32, 32}).pin_memory();
  EXPECT_TRUE(batch.is_pinned());
  const at::Tensor on_device = batch.to(kCuda, /*non_blocking=*/true);
  torch::cuda::synchronize();
  EXPECT_TRUE(at::equal(on_device.cpu(), batch));
}

// Steps of CLIP training on fixed inputs: model, loss, AdamW.
struct SmallRun {
  ContrastiveModel model;
  std::unique_ptr<ContrastiveLoss> loss = create_loss("clip", LossOptions{});
  std::unique_ptr<AdamW> optimizer;
  explicit SmallRun(const ModelConfig& config) {
    at::manual_seed(0);
    model = create_model(config);
    model->to(kCuda);
    optimizer = std::make_unique<AdamW>(slip_parameter_groups(*model, 0.1), AdamWOptions{});
  }
  void steps(int64_t count, uint64_t first_seed) {
    for (int64_t s = 0; s < count; ++s) {
      const ModelInputs inputs = to_device(inputs_for(model->config(), 8, first_seed + s), kCuda);
      loss->forward(model->forward(inputs)).loss.backward();
      optimizer->step();
      optimizer->zero_grad();
    }
  }
};

TEST(GpuTraining, ResumingFromASavedStateEndsWithTheUninterruptedWeights) {
  REQUIRE_CUDA();
  at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/true);  // ctest sets CUBLAS_WORKSPACE_CONFIG
  const ModelConfig config = testing::small_config("clip", "modified_resnet");
  SmallRun whole(config);
  whole.steps(6, 100);
  SmallRun first(config);
  first.steps(3, 100);
  const std::filesystem::path folder = std::filesystem::temp_directory_path() / ("slipstream_gpu_" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  save_safetensors((folder / "model.safetensors").string(), state_dict(*first.model));
  save_safetensors((folder / "optimizer.safetensors").string(), first.optimizer->state());
  SmallRun resumed(config);
  load_state_dict(*resumed.model, load_safetensors((folder / "model.safetensors").string()).tensors, /*strict=*/true);
  resumed.optimizer->load_state(load_safetensors((folder / "optimizer.safetensors").string()).tensors);
  resumed.steps(3, 103);
  std::filesystem::remove_all(folder);
  const auto a = state_dict(*whole.model), b = state_dict(*resumed.model);
  int64_t bitwise = 0;
  for (const auto& [name, tensor] : a) {
    EXPECT_LE(max_difference(tensor, b.at(name)), 1e-6) << name;
    bitwise += at::equal(tensor, b.at(name));
  }
  std::printf("[gpu] resumed run: %lld of %zu tensors equal bit for bit\n", static_cast<long long>(bitwise), a.size());
  at::globalContext().setDeterministicAlgorithms(false, false);
}

TEST(GpuTraining, StepsReplayedFromACudaGraphEqualEagerSteps) {
  REQUIRE_CUDA();
  ExactFp32 exact;
  const ModelConfig config = testing::small_config("clip", "vit");
  SmallRun eager(config), graphed(config);
  std::vector<at::Tensor> parameters = graphed.model->parameters();
  CudaGraphStep step([&](const ModelInputs& in) { return graphed.loss->forward(graphed.model->forward(in)); }, parameters,
                     /*eager_steps=*/2);
  for (int64_t s = 0; s < 6; ++s) {
    const ModelInputs inputs = to_device(inputs_for(config, 8, 200 + s), kCuda);
    const at::Tensor reference = eager.loss->forward(eager.model->forward(inputs)).loss;
    reference.backward();
    eager.optimizer->step();
    eager.optimizer->zero_grad();
    const double graphed_loss = step.run(inputs).loss.item<double>();
    graphed.optimizer->step();  // no zero_grad: the graph writes the next gradients over these
    EXPECT_NEAR(graphed_loss, reference.item<double>(), 1e-4) << "step " << s;
  }
  EXPECT_TRUE(step.captured());
  const auto a = state_dict(*eager.model), b = state_dict(*graphed.model);
  for (const auto& [name, tensor] : a) EXPECT_LE(max_difference(tensor, b.at(name)), 1e-4) << name;
}

}  // namespace
}  // namespace slipstream
