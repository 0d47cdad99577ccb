#include "slipstream/models/contrastive_models.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>

#include "slipstream/core/error.h"
#include "slipstream/models/declip_model.h"
#include "slipstream/models/init.h"
#include "slipstream/models/modified_resnet.h"
#include "slipstream/models/running_statistics_pause.h"
#include "slipstream/models/vision_transformer.h"

namespace slipstream {
namespace {

void require_input(const at::Tensor& tensor, const char* field, const ModelConfig& config) {
  if (!tensor.defined()) {
    throw ShapeError("model " + config.name + " (" + config.family + ") needs inputs." + field);
  }
}

// The SimCLR branch both SimCLR and SLIP run: each augmented view through the image tower and MLP.
void embed_ssl_views(VisionTowerImpl& visual, SimclrHeadImpl& image_mlp, const ModelInputs& inputs,
                     const ModelConfig& config, ModelOutputs& out) {
  require_input(inputs.aug1, "aug1", config);
  require_input(inputs.aug2, "aug2", config);
  out.aug1_embed = image_mlp.forward(visual.forward(inputs.aug1));  // [B, ssl.emb_dim]
  out.aug2_embed = image_mlp.forward(visual.forward(inputs.aug2));  // [B, ssl.emb_dim]
}

SimclrHead make_simclr_head(const VisionTower& visual, const ModelConfig& config) {
  return SimclrHead(visual->output_width(), config.ssl.mlp_dim, config.ssl.emb_dim);
}

}  // namespace

VisionTower make_vision_tower(const VisionConfig& config) {
  if (config.type == "vit") return std::make_shared<VisionTransformerImpl>(config);
  if (config.type == "modified_resnet") return std::make_shared<ModifiedResNetImpl>(config);
  throw ConfigError("unknown vision tower type '" + config.type + "' (expected vit or modified_resnet)");
}

ContrastiveModelImpl::ContrastiveModelImpl(ModelConfig config) : config_(std::move(config)) {
  validate(config_);
  visual_ = register_module("visual", make_vision_tower(config_.vision));
}

ClipModelImpl::ClipModelImpl(const ModelConfig& config) : ContrastiveModelImpl(config) {
  const int64_t vision_width = visual_->output_width();
  text_ = TextTransformer(config_.text, config_.embed_dim);
  register_module("token_embedding", text_->token_embedding);
  register_parameter("positional_embedding", text_->positional_embedding);
  register_module("transformer", text_->transformer);
  register_module("ln_final", text_->ln_final);
  register_parameter("text_projection", text_->text_projection);
  if (config_.image_projection) {
    image_projection = register_parameter("image_projection", at::empty({vision_width, config_.embed_dim}));
    normal_(image_projection, 0.0, std::pow(static_cast<double>(vision_width), -0.5));
  }
  const bool siglip = config_.contrastive_loss == "siglip";
  logit_scale = register_parameter("logit_scale", at::full({}, std::log(siglip ? 10.0 : 1.0 / 0.07)));
  if (siglip) logit_bias = register_parameter("logit_bias", at::full({}, -10.0));
}

at::Tensor ClipModelImpl::encode_image(const at::Tensor& images) {
  const at::Tensor pooled = visual_->forward(images);  // [B, output width]
  return image_projection.defined() ? pooled.matmul(image_projection) : pooled;  // [B, E]
}

at::Tensor ClipModelImpl::encode_text(const at::Tensor& tokens) { return text_->forward(tokens); }

void ClipModelImpl::clamp_logit_scale() {
  torch::NoGradGuard no_grad;
  const auto [low, high] = logit_scale_bounds();
  logit_scale.clamp_(low, high);
}

ModelOutputs ClipModelImpl::forward(const ModelInputs& inputs) {
  require_input(inputs.image, "image", config_);
  require_input(inputs.text, "text", config_);
  ModelOutputs out;
  out.image_embed = encode_image(inputs.image);
  out.text_embed = encode_text(inputs.text);
  out.logit_scale = logit_scale.exp();
  out.logit_bias = logit_bias;
  return out;
}

SimclrModelImpl::SimclrModelImpl(const ModelConfig& config) : ContrastiveModelImpl(config) {
  image_mlp = register_module("image_mlp", make_simclr_head(visual_, config_));
}

ModelOutputs SimclrModelImpl::forward(const ModelInputs& inputs) {
  ModelOutputs out;
  embed_ssl_views(*visual_, *image_mlp, inputs, config_, out);
  return out;
}

SlipModelImpl::SlipModelImpl(const ModelConfig& config) : ClipModelImpl(config) {
  image_mlp = register_module("image_mlp", make_simclr_head(visual_, config_));
}

ModelOutputs SlipModelImpl::forward(const ModelInputs& inputs) {
  ModelOutputs ssl;  // SLIP's order: the two SimCLR views first, then the CLIP view and the text
  {
    // A BatchNorm tower's running statistics follow the CLIP view, the one like evaluation's images.
    RunningStatisticsPause clip_view_statistics(*visual_);
    embed_ssl_views(*visual_, *image_mlp, inputs, config_, ssl);
  }
  ModelOutputs out = ClipModelImpl::forward(inputs);
  out.aug1_embed = ssl.aug1_embed;
  out.aug2_embed = ssl.aug2_embed;
  return out;
}

ContrastiveModel create_model(const ModelConfig& config) {
  validate(config);
  if (config.family == "clip") return std::make_shared<ClipModelImpl>(config);
  if (config.family == "simclr") return std::make_shared<SimclrModelImpl>(config);
  if (config.family == "slip") return std::make_shared<SlipModelImpl>(config);
  if (config.family == "declip") return std::make_shared<DeclipModelImpl>(config);
  throw ConfigError("unknown model family '" + config.family + "'");
}

}  // namespace slipstream
