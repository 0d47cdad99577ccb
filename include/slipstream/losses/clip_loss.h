// CLIP's symmetric InfoNCE (SLIP's CLIPLoss): normalise, gather across ranks,
// logits = scale * local @ all^T both ways, mean of the two cross-entropies.
#pragma once
#include "slipstream/losses/feature_gather.h"
#include "slipstream/losses/loss.h"

namespace slipstream {

class ClipLoss : public ContrastiveLoss {
 public:
  // gather_with_grad: open_clip's --gather-with-grad (gradients through every rank's embeddings);
  // false is SLIP's own behaviour (other ranks' embeddings are constants).
  explicit ClipLoss(std::shared_ptr<const FeatureGather> gather = local_feature_gather(), bool gather_with_grad = true);
  // Reads image_embed, text_embed [B, E] and logit_scale []; metrics loss, clip_loss, clip_acc.
  LossOutput forward(const ModelOutputs& outputs) const override;

 private:
  std::shared_ptr<const FeatureGather> gather_;
  bool gather_with_grad_;
};

}  // namespace slipstream
