// The pre-training models of SLIP's models.py: CLIP (image + text towers, projections, logit
// scale), SimCLR (image tower + projection MLP on two views) and SLIP (both). Their state dicts use
// SLIP's names: visual.*, image_projection, text_projection, token_embedding, positional_embedding,
// transformer.*, ln_final, logit_scale, image_mlp.*.
#pragma once
#include <torch/nn/module.h>

#include <memory>

#include "slipstream/models/model_config.h"
#include "slipstream/models/simclr_head.h"
#include "slipstream/models/text_transformer.h"
#include "slipstream/models/vision_tower.h"

namespace slipstream {

// What a training step feeds a model; a model reads the fields its family needs.
struct ModelInputs {
  at::Tensor image;  // [B, 3, S, S] the CLIP view
  at::Tensor text;   // [B, L] int64 token ids
  at::Tensor aug1;   // [B, 3, S, S] first SimCLR view
  at::Tensor aug2;   // [B, 3, S, S] second SimCLR view
  at::Tensor text_aug;  // [B, L] int64 DeCLIP: the EDA view of the caption
};

// What the losses read; fields a family does not produce stay undefined.
struct ModelOutputs {
  at::Tensor image_embed;  // [B, embed_dim]
  at::Tensor text_embed;   // [B, embed_dim]
  at::Tensor aug1_embed;   // [B, ssl.emb_dim]
  at::Tensor aug2_embed;   // [B, ssl.emb_dim]
  at::Tensor logit_scale;  // [] exp(log-scale), as SLIP's forward returns it
  at::Tensor logit_bias;   // [] SigLIP's learned bias (models built for contrastive_loss "siglip")
  // DeCLIP: image_embed is the first image view's, text_embed the masked caption's.
  at::Tensor image_embed_2;   // [B, embed_dim] the second image view
  at::Tensor text_aug_embed;  // [B, embed_dim] the EDA caption
  at::Tensor simsiam_p1, simsiam_p2;  // [B, 1024] predictor outputs of the two views
  at::Tensor simsiam_z1, simsiam_z2;  // [B, 1024] projector outputs of the two views
  at::Tensor mlm_logits;  // [M, vocab] at the M masked positions of the batch
  at::Tensor mlm_labels;  // [M] int64 the original ids there
};

class ContrastiveModelImpl : public torch::nn::Module {
 public:
  explicit ContrastiveModelImpl(ModelConfig config);
  virtual ModelOutputs forward(const ModelInputs& inputs) = 0;
  const ModelConfig& config() const { return config_; }
  VisionTower visual() const { return visual_; }
  // Activation checkpointing of every tower's blocks (--grad-checkpointing).
  virtual void set_grad_checkpointing(bool enabled) { visual_->set_grad_checkpointing(enabled); }

 protected:
  ModelConfig config_;
  VisionTower visual_;  // registered as "visual"
};
using ContrastiveModel = std::shared_ptr<ContrastiveModelImpl>;

// Builds the image tower a vision config describes (VisionTransformer or ModifiedResNet).
VisionTower make_vision_tower(const VisionConfig& config);

class ClipModelImpl : public ContrastiveModelImpl {
 public:
  explicit ClipModelImpl(const ModelConfig& config);
  ModelOutputs forward(const ModelInputs& inputs) override;  // needs image, text
  at::Tensor encode_image(const at::Tensor& images);  // [B, 3, S, S] -> [B, E], not normalised
  at::Tensor encode_text(const at::Tensor& tokens);   // [B, L] -> [B, E], not normalised
  // Keeps the temperature in range after an optimizer step: the log-scale in logit_scale_bounds().
  void clamp_logit_scale();
  // SLIP's [0, ln 100]; DeCLIP's [3, 6].
  virtual std::pair<double, double> logit_scale_bounds() const { return {0.0, 4.605170185988092}; }

  TextTransformer text() const { return text_; }
  void set_grad_checkpointing(bool enabled) override {
    ContrastiveModelImpl::set_grad_checkpointing(enabled);
    text_->transformer->set_grad_checkpointing(enabled);
  }
  at::Tensor image_projection;  // [vision width, E]; undefined with config.image_projection false
  at::Tensor logit_scale;       // [] initialised to ln(1/0.07); SigLIP: ln 10
  at::Tensor logit_bias;        // [] SigLIP only (open_clip's name), initialised to -10; undefined otherwise

 private:
  // The text tower's parts are registered on this module directly (SLIP's flat names);
  // text_ itself is not registered, so nothing is counted twice.
  TextTransformer text_{nullptr};
};

class SimclrModelImpl : public ContrastiveModelImpl {
 public:
  explicit SimclrModelImpl(const ModelConfig& config);
  ModelOutputs forward(const ModelInputs& inputs) override;  // needs aug1, aug2
  SimclrHead image_mlp{nullptr};
};

class SlipModelImpl : public ClipModelImpl {
 public:
  explicit SlipModelImpl(const ModelConfig& config);
  // Runs the image tower three times: aug1, aug2 (through image_mlp), then the CLIP view.
  ModelOutputs forward(const ModelInputs& inputs) override;  // needs image, text, aug1, aug2
  SimclrHead image_mlp{nullptr};
};

// Builds the model a config describes, with SLIP's initialisation.
ContrastiveModel create_model(const ModelConfig& config);

}  // namespace slipstream
