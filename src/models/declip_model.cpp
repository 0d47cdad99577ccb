#include "slipstream/models/declip_model.h"

#include <ATen/ATen.h>

#include "slipstream/core/error.h"
#include "slipstream/models/masked_tokens.h"

namespace slipstream {

DeclipModelImpl::DeclipModelImpl(const ModelConfig& config) : ClipModelImpl(config) {
  if (config_.family != "declip") throw ConfigError("DeclipModel built from a '" + config_.family + "' config");
  projector = register_module("projector", SimsiamProjector(config_.embed_dim));
  predictor = register_module("predictor", SimsiamPredictor());
  text_label_predictor =
      register_module("text_label_predictor", torch::nn::Linear(config_.text.width, config_.text.vocab_size));
}

ModelOutputs DeclipModelImpl::forward(const ModelInputs& inputs) {
  for (const auto& [tensor, field] : {std::pair{&inputs.aug1, "aug1"}, std::pair{&inputs.aug2, "aug2"},
                                      std::pair{&inputs.text, "text"}, std::pair{&inputs.text_aug, "text_aug"}}) {
    if (!tensor->defined()) throw ShapeError("model " + config_.name + " (declip) needs inputs." + field);
  }
  ModelOutputs out;
  MaskedTokens masked{inputs.text, at::full_like(inputs.text, -100)};
  if (is_training()) masked = mask_tokens(inputs.text, mlm_probability);
  const at::Tensor words = text()->forward_tokens(masked.tokens);       // [B, L, width]
  out.text_embed = text()->project_eot(words, masked.tokens);            // [B, E]
  out.text_aug_embed = encode_text(inputs.text_aug);                     // [B, E]
  out.image_embed = encode_image(inputs.aug1);                           // [B, E]
  out.image_embed_2 = encode_image(inputs.aug2);                         // [B, E]
  out.simsiam_z1 = projector->forward(out.image_embed);                  // [B, 1024]
  out.simsiam_z2 = projector->forward(out.image_embed_2);                // [B, 1024]
  out.simsiam_p1 = predictor->forward(out.simsiam_z1);                   // [B, 1024]
  out.simsiam_p2 = predictor->forward(out.simsiam_z2);                   // [B, 1024]
  const at::Tensor selected = masked.labels.ne(-100);                    // [B, L]
  out.mlm_logits = text_label_predictor->forward(words.index({selected}));  // [M, vocab]
  out.mlm_labels = masked.labels.index({selected});                         // [M]
  const at::Tensor scale = logit_scale.exp();
  out.logit_scale = scale + (scale.clamp_max(100.0) - scale).detach();  // [] value capped at 100
  return out;
}

}  // namespace slipstream
