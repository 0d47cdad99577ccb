// Model parity: slipstream's towers and SLIP model against timm / open_clip / SLIP outputs,
// computed by tests/parity/make_references.py from the same weights and inputs.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/autograd.h>

#include <fstream>

#include "parity/parity_data.h"
#include "slipstream/core/state_dict.h"
#include "slipstream/losses/slip_loss.h"
#include "slipstream/models/modified_resnet.h"
#include "slipstream/models/registry.h"
#include "slipstream/models/text_transformer.h"
#include "slipstream/models/vision_transformer.h"

namespace slipstream {
namespace {

using testing::load_parity;
using testing::matches_reference;
using testing::parity_tensor;

// Loads <case>.weights strictly (names must map one to one), runs the input, compares the output,
// then backpropagates sum(output * R) and compares every gradient the reference saved.
template <typename Module>
void check_tower(const std::string& name, Module& module, const std::string& case_name) {
  const LoadReport report = load_weights(module, testing::parity_path(case_name + ".weights.safetensors"));
  ASSERT_TRUE(report.clean()) << report.summary();
  module.eval();
  const SafetensorsFile io = load_parity(case_name + ".io.safetensors");
  at::Tensor output = module.forward(parity_tensor(io, "input"));
  EXPECT_TRUE(matches_reference(name + " output", output, parity_tensor(io, "output")));

  module.zero_grad();
  (output * parity_tensor(io, "grad_projection")).sum().backward();
  const StateDict parameters = state_dict(module);
  int compared = 0;
  for (const auto& [key, expected] : io.tensors) {
    if (key.rfind("grad.", 0) != 0) continue;
    const std::string parameter = key.substr(5);
    ASSERT_TRUE(parameters.count(parameter)) << "reference gradient for unknown parameter " << parameter;
    EXPECT_TRUE(matches_reference(name + " d/d " + parameter, parameters.at(parameter).grad(), expected));
    ++compared;
  }
  EXPECT_GE(compared, 8) << "too few gradients compared for " << name;
}

VisionConfig vit_config(int64_t width, int64_t depth, int64_t heads) {
  VisionConfig config;
  config.width = width;
  config.depth = depth;
  config.heads = heads;
  return config;
}

TEST(ParityVisionTransformer, ViTS16MatchesTimm) {
  VisionTransformer vit(vit_config(384, 12, 12));
  check_tower("ViT-S/16", *vit, "vit_s16");
}

TEST(ParityVisionTransformer, ViTB16MatchesTimm) {
  VisionTransformer vit(vit_config(768, 12, 12));
  check_tower("ViT-B/16", *vit, "vit_b16");
}

TEST(ParityVisionTransformer, ViTL16MatchesTimm) {
  VisionTransformer vit(vit_config(1024, 24, 16));
  check_tower("ViT-L/16", *vit, "vit_l16");
}

TEST(ParityVisionTransformer, PreNormQuickGeluOptionsMatchTimm) {
  VisionConfig config = vit_config(64, 2, 4);
  config.image_size = 64;
  config.pre_norm = true;
  config.activation = "quick_gelu";
  VisionTransformer vit(config);
  check_tower("ViT pre-norm QuickGELU", *vit, "vit_small_prenorm_quickgelu");
}

TEST(ParityTextTransformer, MatchesOpenClip) {
  TextTransformer text(TextConfig{}, 512);
  check_tower("text tower", *text, "text");
}

TEST(ParityModifiedResNet, RN50MatchesOpenClipInEvalAndTrainMode) {
  ModifiedResNet resnet(model_config("CLIP_RN50").vision);
  check_tower("RN50", *resnet, "rn50");
  const SafetensorsFile io = load_parity("rn50.io.safetensors");
  resnet->train();
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(matches_reference("RN50 output (train mode, batch statistics)", resnet->forward(parity_tensor(io, "input")),
                                parity_tensor(io, "output_train")));
}

// The whole SLIP composition (SLIP's models.py over timm and open_clip parts) in train mode:
// outputs, every loss term and accuracy, every parameter gradient, and BatchNorm statistics.
TEST(ParitySlipModel, TrainStepMatchesSlipReference) {
  const ModelConfig config = load_model_config(testing::parity_path("slip_small.json"));
  ContrastiveModel model = create_model(config);
  const LoadReport report = load_weights(*model, testing::parity_path("slip_small.weights.safetensors"));
  ASSERT_TRUE(report.clean()) << report.summary();
  model->train();
  const SafetensorsFile io = load_parity("slip_small.io.safetensors");
  ModelInputs inputs{parity_tensor(io, "image"), parity_tensor(io, "text"), parity_tensor(io, "aug1"),
                     parity_tensor(io, "aug2")};
  ModelOutputs outputs = model->forward(inputs);
  EXPECT_TRUE(matches_reference("SLIP image_embed", outputs.image_embed, parity_tensor(io, "out.image_embed")));
  EXPECT_TRUE(matches_reference("SLIP text_embed", outputs.text_embed, parity_tensor(io, "out.text_embed")));
  EXPECT_TRUE(matches_reference("SLIP aug1_embed", outputs.aug1_embed, parity_tensor(io, "out.aug1_embed")));
  EXPECT_TRUE(matches_reference("SLIP aug2_embed", outputs.aug2_embed, parity_tensor(io, "out.aug2_embed")));
  EXPECT_TRUE(matches_reference("SLIP logit_scale", outputs.logit_scale, parity_tensor(io, "out.logit_scale")));

  SlipLoss loss;
  LossOutput result = loss.forward(outputs);
  for (const char* metric : {"loss", "clip_loss", "clip_acc", "ssl_loss", "ssl_acc"}) {
    EXPECT_TRUE(matches_reference(std::string("SLIP step ") + metric, result.metrics.at(metric),
                                  parity_tensor(io, std::string("loss.") + metric)));
  }
  model->zero_grad();
  result.loss.backward();
  int compared = 0;
  for (const auto& item : model->named_parameters()) {
    const std::string key = "grad." + item.key();
    ASSERT_TRUE(io.tensors.count(key)) << "no reference gradient for " << item.key();
    EXPECT_TRUE(matches_reference("SLIP step d/d " + item.key(), item.value().grad(), io.tensors.at(key)));
    ++compared;
  }
  EXPECT_EQ(compared, static_cast<int>(model->parameters().size()));
  for (const auto& item : model->named_buffers()) {
    if (item.key().find("running") == std::string::npos) continue;
    EXPECT_TRUE(matches_reference("SLIP step " + item.key(), item.value(), parity_tensor(io, "after." + item.key())));
  }
}

// scripts/convert_checkpoint.py turns SLIP's release .pt (module. prefix, args) into safetensors
// that load strictly into the model the checkpoint names, with the same weights.
TEST(ParityCheckpointConversion, ConvertedSlipReleaseLoadsStrictly) {
  const SafetensorsFile converted = load_safetensors(testing::parity_path("slip_small_converted.safetensors"));
  EXPECT_EQ(converted.metadata.at("model"), "SLIP_PARITY_SMALL");
  EXPECT_EQ(converted.metadata.at("format"), "slip");
  const SafetensorsFile original = load_parity("slip_small.weights.safetensors");
  ContrastiveModel model = create_model(load_model_config(testing::parity_path("slip_small.json")));
  EXPECT_TRUE(load_state_dict(*model, converted.tensors, /*strict=*/true).clean());
  ASSERT_EQ(converted.tensors.size(), original.tensors.size());
  for (const auto& [name, tensor] : original.tensors) {
    ASSERT_TRUE(converted.tensors.count(name)) << name;
    EXPECT_TRUE(at::equal(converted.tensors.at(name), tensor)) << name;
  }
}

// open_clip / OpenAI-layout CLIP state dicts through the converter: the model config it writes and
// the renamed weights reproduce open_clip's encode_image and encode_text.
void check_open_clip_conversion(const std::string& case_name) {
  const ModelConfig config = load_model_config(testing::parity_path(case_name + "_converted.json"));
  auto model = std::dynamic_pointer_cast<ClipModelImpl>(create_model(config));
  ASSERT_TRUE(model);
  const LoadReport report = load_weights(*model, testing::parity_path(case_name + "_converted.safetensors"));
  ASSERT_TRUE(report.clean()) << report.summary();
  model->eval();
  torch::NoGradGuard no_grad;
  const SafetensorsFile io = load_parity(case_name + ".io.safetensors");
  EXPECT_TRUE(matches_reference(case_name + " encode_image", model->encode_image(parity_tensor(io, "image")),
                                parity_tensor(io, "image_embed")));
  EXPECT_TRUE(matches_reference(case_name + " encode_text", model->encode_text(parity_tensor(io, "text")),
                                parity_tensor(io, "text_embed")));
}

TEST(ParityCheckpointConversion, OpenClipViTConvertsToTimmLayout) { check_open_clip_conversion("open_clip_vit"); }
TEST(ParityCheckpointConversion, OpenClipModifiedResNetConverts) { check_open_clip_conversion("open_clip_rn"); }

// slipstream's ViT-B/16 CLIP and open_clip's differ only by timm's patch-embedding bias (+768)
// and OpenAI's pre-transformer LayerNorm (-1536): 149.6M either way.
TEST(ParityParameterCount, ClipViTB16AgreesWithOpenClip) {
  std::ifstream in(testing::parity_path("parameter_counts.json"));
  ASSERT_TRUE(in.good());
  const nlohmann::json counts = nlohmann::json::parse(in);
  const ParameterCounts ours = count_parameters(*create_model("CLIP_VITB16"));
  const int64_t open_clip_total = counts.at("open_clip_ViT-B-16").get<int64_t>();
  std::printf("[parity] CLIP_VITB16 parameters: slipstream %lld, open_clip %lld\n", static_cast<long long>(ours.total()),
              static_cast<long long>(open_clip_total));
  EXPECT_EQ(ours.vision, counts.at("timm_vit_base_patch16_224_no_head").get<int64_t>());
  EXPECT_EQ(ours.total(), open_clip_total + 768 - 1536);
  EXPECT_NEAR(static_cast<double>(ours.total()) / 1e6, 149.6, 0.05);
}

}  // namespace
}  // namespace slipstream
