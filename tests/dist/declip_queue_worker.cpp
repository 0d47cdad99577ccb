// One rank of the DeCLIP nearest-neighbour check: DeclipLoss (nearest-neighbour term only) over
// real Gloo ranks for four steps with a 6-entry queue (so it wraps), against this process's own
// simulation of every rank's queue. Each rank draws the whole world's fixed embeddings, keeps
// its rows for the real loss and uses all of them for the simulation. Prints one line per step
// and exits 1 when the distributed loss or this rank's queue differs from the simulation.
//   slip_run --nproc-per-node 2 declip_queue_worker
#include <ATen/ATen.h>

#include <cstdio>

#include "slipstream/dist/collectives.h"
#include "slipstream/losses/declip_loss.h"

int main() try {
  using namespace slipstream;
  const DistributedEnvironment env = detect_distributed_environment(current_environment());
  if (!env.distributed()) {
    std::fprintf(stderr, "declip_queue_worker: run it under slip_run with 2 or more processes\n");
    return 2;
  }
  at::set_num_threads(1);
  const auto group = ProcessGroup::connect(env, at::Device(at::kCPU), std::chrono::seconds(60));
  const int64_t world = env.world_size, local = 3, width = 8, capacity = 6;
  DeclipLoss loss(DeclipLossWeights{0.0, 1.0, 0.0, 0.0}, capacity, std::make_shared<DistributedFeatureGather>(group));
  std::vector<NearestNeighbourQueue> simulated(static_cast<size_t>(world), NearestNeighbourQueue(capacity));
  bool ok = true;
  for (int step = 0; step < 4; ++step) {
    at::manual_seed(100 + step);  // the same world batch on every rank
    const at::Tensor images[2] = {at::randn({world * local, width}), at::randn({world * local, width})};
    const at::Tensor texts[2] = {at::randn({world * local, width}), at::randn({world * local, width})};
    const at::Tensor scale = at::full({}, 5.0);
    const auto rows = [&](const at::Tensor& t, int64_t r) { return t.narrow(0, r * local, local); };

    ModelOutputs outputs;
    outputs.image_embed = rows(images[0], env.rank);
    outputs.image_embed_2 = rows(images[1], env.rank);
    outputs.text_embed = rows(texts[0], env.rank);
    outputs.text_aug_embed = rows(texts[1], env.rank);
    outputs.simsiam_p1 = outputs.simsiam_p2 = outputs.simsiam_z1 = outputs.simsiam_z2 = at::randn({local, 4});
    outputs.mlm_logits = at::randn({2, 10});
    outputs.mlm_labels = at::zeros({2}, at::kLong);
    outputs.logit_scale = scale;
    const double got = loss.forward(outputs).metrics.at("nn_loss").item<double>();

    // The simulation: each rank's neighbours from its own queue, gathered in rank order.
    std::vector<at::Tensor> neighbours[2];
    for (int64_t r = 0; r < world; ++r) {
      for (int t = 0; t < 2; ++t) neighbours[t].push_back(simulated[r].nearest(l2_normalize(rows(texts[t], r))));
      simulated[r].push(l2_normalize(rows(texts[1], r)));
      simulated[r].push(l2_normalize(rows(texts[0], r)));
    }
    const at::Tensor labels = at::arange(local, at::kLong) + env.rank * local;
    double expected = 0.0;
    for (int i = 0; i < 2; ++i) {
      for (int t = 0; t < 2; ++t) {
        const at::Tensor logits = scale * l2_normalize(rows(images[i], env.rank)).matmul(at::cat(neighbours[t], 0).t());
        expected += at::cross_entropy_loss(logits, labels).item<double>() / 4;
      }
    }
    const bool same_queue = at::allclose(loss.state().at("nn_queue.entries"),
                                         simulated[env.rank].state().at("entries"), 1e-6, 1e-7);
    std::printf("rank %lld step %d: nn_loss %.6f, simulated %.6f, queue %lld entries%s\n",
                static_cast<long long>(env.rank), step, got, expected, static_cast<long long>(loss.queue().size()),
                same_queue ? "" : " DIFFERENT from the simulation");
    ok = ok && std::abs(got - expected) < 1e-5 && same_queue;
  }
  return ok ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "declip_queue_worker: %s\n", e.what());
  return 1;
}
