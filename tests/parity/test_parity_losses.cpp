// Loss parity: ClipLoss, SimclrLoss and SlipLoss against SLIP's formulas evaluated in PyTorch,
// SiglipLoss against open_clip's SigLipLoss: values, accuracies and the gradients with respect to
// every input. FLIP's patch dropout against open_clip's PatchDropout.
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include "parity/parity_data.h"
#include "slipstream/losses/slip_loss.h"
#include "slipstream/models/layers.h"

namespace slipstream {
namespace {

using testing::matches_reference;
using testing::parity_tensor;

// family: the reference's name; "siglip" is the clip family with contrastive_loss siglip.
void check_loss(const std::string& family) {
  const SafetensorsFile io = testing::load_parity("losses.io.safetensors");
  std::map<std::string, at::Tensor> leaves;
  for (const char* name : {"image_embed", "text_embed", "aug1_embed", "aug2_embed", "log_scale", "logit_bias"}) {
    leaves[name] = parity_tensor(io, name).clone().requires_grad_(true);
  }
  ModelOutputs outputs{leaves["image_embed"], leaves["text_embed"], leaves["aug1_embed"], leaves["aug2_embed"],
                       leaves["log_scale"].exp(), leaves["logit_bias"]};
  LossOptions options;
  if (family == "siglip") options.contrastive = "siglip";
  auto loss = create_loss(family == "siglip" ? "clip" : family, options);
  LossOutput result = loss->forward(outputs);
  int compared = 0;
  for (const auto& [key, expected] : io.tensors) {
    const std::string prefix = family + ".";
    if (key.rfind(prefix, 0) != 0 || key.rfind(prefix + "grad.", 0) == 0) continue;
    const std::string metric = key.substr(prefix.size());
    ASSERT_TRUE(result.metrics.count(metric)) << family << " loss does not report " << metric;
    EXPECT_TRUE(matches_reference(family + " " + metric, result.metrics.at(metric), expected));
    ++compared;
  }
  EXPECT_GE(compared, 3);
  result.loss.backward();
  for (const auto& [name, leaf] : leaves) {
    const std::string key = family + ".grad." + name;
    if (!io.tensors.count(key)) {
      EXPECT_FALSE(leaf.grad().defined() && leaf.grad().abs().sum().item<double>() > 0)
          << family << " loss should not depend on " << name;
      continue;
    }
    EXPECT_TRUE(matches_reference(family + " d/d " + name, leaf.grad(), io.tensors.at(key)));
  }
}

TEST(ParityLosses, ClipLossMatchesSlip) { check_loss("clip"); }
TEST(ParityLosses, SimclrLossMatchesSlip) { check_loss("simclr"); }
TEST(ParityLosses, SlipLossMatchesSlip) { check_loss("slip"); }
TEST(ParityLosses, SiglipLossMatchesOpenClip) { check_loss("siglip"); }

TEST(ParityLosses, PatchDropoutKeepsOpenClipsTokens) {
  const SafetensorsFile io = testing::load_parity("patch_dropout.io.safetensors");
  const at::Tensor& tokens = parity_tensor(io, "tokens");  // [3, 17, 8]
  for (const auto& [prob, key] : std::vector<std::pair<double, std::string>>{{0.5, "kept_50"}, {0.75, "kept_75"}}) {
    at::manual_seed(601);  // the reference's seed before its draw
    const at::Tensor kept = drop_patch_tokens(tokens, prob);
    EXPECT_EQ(kept.sizes(), parity_tensor(io, key).sizes()) << key;
    EXPECT_TRUE(at::equal(kept, parity_tensor(io, key))) << key;
  }
}

}  // namespace
}  // namespace slipstream
