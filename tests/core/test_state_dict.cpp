// State dicts: PyTorch-style names, strict loading that names what does not fit, non-strict
// loading that reports it, and prefix stripping for DDP checkpoints.
#include <gtest/gtest.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>

#include "slipstream/core/error.h"
#include "slipstream/core/safetensors.h"
#include "slipstream/core/state_dict.h"
#include "test_paths.h"

namespace slipstream {
namespace {

struct TinyImpl : torch::nn::Module {
  TinyImpl() {
    fc = register_module("fc", torch::nn::Linear(3, 2));
    bn = register_module("bn", torch::nn::BatchNorm1d(2));
  }
  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};

TEST(StateDict, HoldsParametersAndBuffersByDottedName) {
  TinyImpl tiny;
  const StateDict weights = state_dict(tiny);
  std::vector<std::string> names;
  for (const auto& item : weights) names.push_back(item.first);
  EXPECT_EQ(names, (std::vector<std::string>{"bn.bias", "bn.num_batches_tracked", "bn.running_mean", "bn.running_var",
                                             "bn.weight", "fc.bias", "fc.weight"}));
}

TEST(StateDict, SaveAndLoadRestoresEveryTensor) {
  testing::TemporaryFolder folder;
  TinyImpl source, target;
  {
    torch::NoGradGuard no_grad;
    source.bn->running_mean.fill_(0.25);
  }
  save_weights(source, folder.file("tiny.safetensors"), {{"model", "tiny"}});
  EXPECT_TRUE(load_weights(target, folder.file("tiny.safetensors")).clean());
  for (const auto& [name, tensor] : state_dict(source)) {
    EXPECT_TRUE(at::equal(tensor, state_dict(target).at(name))) << name;
  }
}

TEST(StateDict, StrictLoadNamesMissingUnexpectedAndMisshapedTensors) {
  TinyImpl tiny;
  StateDict weights = state_dict(tiny);
  weights.erase("fc.bias");
  weights["extra.weight"] = at::zeros({1});
  weights["fc.weight"] = at::zeros({5, 5});
  const at::Tensor before = tiny.bn->weight.clone();
  weights["bn.weight"] = at::full({2}, 9.0);
  try {
    load_state_dict(tiny, weights, /*strict=*/true);
    FAIL() << "strict load accepted bad weights";
  } catch (const StateDictError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("1 missing (fc.bias)"), std::string::npos) << message;
    EXPECT_NE(message.find("1 unexpected (extra.weight)"), std::string::npos) << message;
    EXPECT_NE(message.find("fc.weight: [5, 5] in the weights vs [2, 3] in the model"), std::string::npos) << message;
  }
  EXPECT_TRUE(at::equal(tiny.bn->weight, before)) << "a failed strict load must not change the model";
}

TEST(StateDict, NonStrictLoadCopiesWhatFitsAndReports) {
  TinyImpl tiny;
  StateDict weights = {{"bn.weight", at::full({2}, 3.0)}, {"other", at::zeros({1})}};
  const LoadReport report = load_state_dict(tiny, weights, /*strict=*/false);
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"other"});
  EXPECT_EQ(report.missing.size(), 6u);
  EXPECT_TRUE(at::equal(tiny.bn->weight, at::full({2}, 3.0)));
}

TEST(StateDict, LoadConvertsDtypes) {
  TinyImpl tiny;
  StateDict weights = state_dict(tiny);
  weights["fc.weight"] = at::full({2, 3}, 0.5).to(at::kBFloat16);
  EXPECT_TRUE(load_state_dict(tiny, weights).clean());
  EXPECT_EQ(tiny.fc->weight.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(tiny.fc->weight, at::full({2, 3}, 0.5)));
}

TEST(StateDict, StripPrefixRemovesDdpPrefixOnly) {
  StateDict weights = {{"module.visual.x", at::zeros({1})}, {"logit_scale", at::zeros({})}};
  StateDict stripped = strip_prefix(weights, "module.");
  EXPECT_TRUE(stripped.count("visual.x"));
  EXPECT_TRUE(stripped.count("logit_scale"));
  EXPECT_EQ(stripped.size(), 2u);
}

TEST(StateDict, LoadWeightsErrorNamesTheFile) {
  testing::TemporaryFolder folder;
  TinyImpl tiny;
  save_safetensors(folder.file("wrong.safetensors"), {{"fc.weight", at::zeros({9})}});
  try {
    load_weights(tiny, folder.file("wrong.safetensors"));
    FAIL();
  } catch (const StateDictError& e) {
    EXPECT_NE(std::string(e.what()).find(folder.file("wrong.safetensors")), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace slipstream
