// DeCLIP parity: DeclipLoss (CLIP + multi-view, nearest-neighbour, SimSiam and masked-LM terms)
// against DeCLIP's formulas evaluated in PyTorch on fixed embeddings and a pre-filled queue
// (values, accuracies, gradients of every input), and the SimSiam projector and predictor against
// DeCLIP's modules in training mode (outputs and the input gradient).
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include "parity/parity_data.h"
#include "slipstream/core/state_dict.h"
#include "slipstream/losses/declip_loss.h"
#include "slipstream/models/simsiam_heads.h"

namespace slipstream {
namespace {

using testing::matches_reference;
using testing::parity_tensor;

TEST(ParityDeclip, LossMatchesDeclipsFormulas) {
  const SafetensorsFile io = testing::load_parity("declip.io.safetensors");
  std::map<std::string, at::Tensor> leaves;
  for (const char* name : {"image_embed", "image_embed_2", "text_embed", "text_aug_embed", "simsiam_p1", "simsiam_p2",
                           "simsiam_z1", "simsiam_z2", "mlm_logits", "log_scale"}) {
    leaves[name] = parity_tensor(io, name).clone().requires_grad_(true);
  }
  ModelOutputs outputs;
  outputs.image_embed = leaves["image_embed"];
  outputs.image_embed_2 = leaves["image_embed_2"];
  outputs.text_embed = leaves["text_embed"];
  outputs.text_aug_embed = leaves["text_aug_embed"];
  outputs.simsiam_p1 = leaves["simsiam_p1"];
  outputs.simsiam_p2 = leaves["simsiam_p2"];
  outputs.simsiam_z1 = leaves["simsiam_z1"];
  outputs.simsiam_z2 = leaves["simsiam_z2"];
  outputs.mlm_logits = leaves["mlm_logits"];
  outputs.mlm_labels = parity_tensor(io, "mlm_labels");
  outputs.logit_scale = leaves["log_scale"].exp();
  DeclipLoss loss;
  loss.load_state({{"nn_queue.entries", parity_tensor(io, "nn_queue")}});
  const LossOutput result = loss.forward(outputs);
  int compared = 0;
  for (const auto& [key, expected] : io.tensors) {
    if (key.rfind("declip.", 0) != 0 || key.rfind("declip.grad.", 0) == 0) continue;
    const std::string metric = key.substr(7);
    ASSERT_TRUE(result.metrics.count(metric)) << "DeclipLoss does not report " << metric;
    EXPECT_TRUE(matches_reference("declip " + metric, result.metrics.at(metric), expected));
    ++compared;
  }
  EXPECT_EQ(compared, 7);
  result.loss.backward();
  for (const auto& [name, leaf] : leaves) {
    if (!io.tensors.count("declip.grad." + name)) {  // z1, z2: stop-gradient targets
      EXPECT_FALSE(leaf.grad().defined()) << name;
      continue;
    }
    ASSERT_TRUE(leaf.grad().defined()) << name;
    EXPECT_TRUE(matches_reference("declip d/d " + name, leaf.grad(), parity_tensor(io, "declip.grad." + name)));
  }
  // The step queued the EDA and caption embeddings after the 20 it started with.
  EXPECT_EQ(loss.queue().size(), 20 + 2 * 8);
}

TEST(ParityDeclip, SimsiamHeadsMatchDeclipsModules) {
  const SafetensorsFile io = testing::load_parity("declip.io.safetensors");
  torch::nn::Module heads;
  const at::Tensor& x_ref = parity_tensor(io, "heads.x");
  auto projector = heads.register_module("projector", SimsiamProjector(x_ref.size(1)));
  auto predictor = heads.register_module("predictor", SimsiamPredictor());
  load_weights(heads, testing::parity_path("declip_heads.weights.safetensors"));
  heads.train();
  const at::Tensor x = x_ref.clone().requires_grad_(true);
  const at::Tensor z = projector->forward(x);
  const at::Tensor p = predictor->forward(z);
  (z.square().mean() + p.sin().sum()).backward();
  EXPECT_TRUE(matches_reference("declip projector", z, parity_tensor(io, "heads.z")));
  EXPECT_TRUE(matches_reference("declip predictor", p, parity_tensor(io, "heads.p")));
  EXPECT_TRUE(matches_reference("declip heads d/d x", x.grad(), parity_tensor(io, "heads.grad.x")));
}

}  // namespace
}  // namespace slipstream
