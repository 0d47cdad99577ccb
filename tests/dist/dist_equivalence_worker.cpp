// One worker of the data-parallel equivalence test: a small CLIP, SimCLR, SLIP or SigLIP (the clip
// family with contrastive_loss siglip) model trained on
// this rank's rows of a fixed global batch, with the distributed pieces (parameter broadcast,
// gathered features with gradient, synchronised BatchNorm, bucketed gradient averaging). Writes
// the step-0 loss (averaged over ranks) and gradients, and the weights after three AdamW steps.
//   dist_equivalence_worker FAMILY GLOBAL_BATCH OUTPUT_PREFIX   (ranks from slip_run's variables)
#include <ATen/ATen.h>

#include <cstdio>
#include <string>

#include "models/small_configs.h"
#include "slipstream/core/safetensors.h"
#include "slipstream/dist/collectives.h"
#include "slipstream/dist/gradient_sync.h"
#include "slipstream/losses/slip_loss.h"
#include "slipstream/models/registry.h"
#include "slipstream/train/adamw.h"

int main(int argc, char** argv) try {
  using namespace slipstream;
  if (argc != 4) {
    std::fprintf(stderr, "usage: dist_equivalence_worker FAMILY GLOBAL_BATCH OUTPUT_PREFIX\n");
    return 2;
  }
  const std::string family = argv[1], prefix = argv[3];
  const int64_t global_batch = std::stoll(argv[2]);
  const DistributedEnvironment env = detect_distributed_environment(current_environment());
  at::set_num_threads(1);

  at::manual_seed(0);
  const bool siglip = family == "siglip";
  ModelConfig config = testing::small_config(siglip ? "clip" : family);
  if (siglip) config.contrastive_loss = "siglip";
  ContrastiveModel model = create_model(config);
  at::manual_seed(1);
  const ModelConfig& c = model->config();
  const at::Tensor images = at::randn({global_batch, 3, c.vision.image_size, c.vision.image_size});
  const at::Tensor aug1 = at::randn_like(images), aug2 = at::randn_like(images);
  const at::Tensor text = at::randint(1, c.text.vocab_size, {global_batch, c.text.context_length}, at::kLong);
  const int64_t rows = global_batch / env.world_size, first = env.rank * rows;
  ModelInputs inputs{images.narrow(0, first, rows), text.narrow(0, first, rows), aug1.narrow(0, first, rows),
                     aug2.narrow(0, first, rows)};

  std::shared_ptr<ProcessGroup> group;
  std::unique_ptr<GradientSynchronizer> synchronizer;
  LossOptions loss_options;
  loss_options.contrastive = config.contrastive_loss;
  std::vector<at::Tensor> parameters;
  for (const at::Tensor& p : model->parameters()) {
    if (p.requires_grad()) parameters.push_back(p);
  }
  if (env.distributed()) {
    group = ProcessGroup::connect(env, at::Device(at::kCPU), std::chrono::seconds(60));
    {  // rank 1 starts from other weights: the broadcast from rank 0 must make them equal
      at::NoGradGuard no_grad;
      if (env.rank != 0) {
        for (at::Tensor& p : parameters) p.add_(1.0);
      }
      std::vector<at::Tensor> state;
      for (const auto& item : model->named_parameters()) state.push_back(item.value());
      for (const auto& item : model->named_buffers()) state.push_back(item.value());
      group->broadcast(state, 0);
    }
    loss_options.gather = std::make_shared<DistributedFeatureGather>(group);
    if (auto* slip = dynamic_cast<SlipModelImpl*>(model.get())) slip->image_mlp->set_batch_norm(sync_batch_norm(group));
    if (auto* simclr = dynamic_cast<SimclrModelImpl*>(model.get())) simclr->image_mlp->set_batch_norm(sync_batch_norm(group));
    synchronizer = std::make_unique<GradientSynchronizer>(group, parameters, /*bucket_bytes=*/64 << 10);
  }
  const std::unique_ptr<ContrastiveLoss> loss_function = create_loss(config.family, loss_options);
  AdamW optimizer(slip_parameter_groups(*model, 0.1), AdamWOptions{1e-3, 0.9, 0.98, 1e-8});

  std::map<std::string, at::Tensor> out;
  for (int step = 0; step < 4; ++step) {
    LossOutput loss = loss_function->forward(model->forward(inputs));
    loss.loss.backward();
    if (synchronizer) synchronizer->finish();
    if (step == 0) {
      std::vector<at::Tensor> mean = {loss.loss.detach().clone().reshape({1})};
      if (group) group->all_reduce_sum(mean);
      out["loss"] = mean[0] / static_cast<double>(env.world_size);
      for (const auto& item : model->named_parameters()) {
        if (item.value().grad().defined()) out["grad/" + item.key()] = item.value().grad().clone();
      }
      optimizer.zero_grad();
      continue;  // step 0 only measures
    }
    optimizer.step();
    optimizer.zero_grad();
  }
  for (const auto& item : model->named_parameters()) out["weight/" + item.key()] = item.value().detach().clone();
  for (const auto& item : model->named_buffers()) out["buffer/" + item.key()] = item.value().detach().clone();
  save_safetensors(prefix + "_rank" + std::to_string(env.rank) + ".safetensors", out);
  if (synchronizer) std::printf("rank %lld: %lld gradient buckets\n", static_cast<long long>(env.rank),
                                static_cast<long long>(synchronizer->bucket_count()));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "dist_equivalence_worker: %s\n", e.what());
  return 1;
}
