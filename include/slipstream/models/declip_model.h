// DeCLIP's model (Sense-GVT/DeCLIP, declip.py): CLIP's towers plus SimSiam's projector and
// predictor on the projected image embedding and a masked-language-model head
// (text_label_predictor: text width -> vocabulary) on the final token features. One training
// forward embeds two image views, the caption with BERT masking applied (DeCLIP's contrastive
// text embedding is the masked caption's) and its EDA view.
#pragma once
#include <torch/nn/modules/linear.h>

#include "slipstream/models/contrastive_models.h"
#include "slipstream/models/simsiam_heads.h"

namespace slipstream {

class DeclipModelImpl : public ClipModelImpl {
 public:
  explicit DeclipModelImpl(const ModelConfig& config);
  // Needs aug1, aug2 (the two image views), text and text_aug. In training mode the caption is
  // masked (mask_tokens, mlm_probability); in eval mode it is not and mlm_logits is empty.
  // The temperature is exp(logit_scale) capped at 100 in value (DeCLIP's data clamp; the gradient
  // passes as if uncapped).
  ModelOutputs forward(const ModelInputs& inputs) override;
  std::pair<double, double> logit_scale_bounds() const override { return {3.0, 6.0}; }

  SimsiamProjector projector{nullptr};
  SimsiamPredictor predictor{nullptr};
  torch::nn::Linear text_label_predictor{nullptr};
  double mlm_probability = 0.15;
};

}  // namespace slipstream
