// SigLIP's pairwise sigmoid loss (open_clip's SigLipLoss): every image-text pair is a binary
// problem, z_ij = +1 for the matching pair and -1 otherwise,
//   loss = -(1/B) sum_i sum_j log sigmoid(z_ij * (t * x_i . y_j + b)),
// with x, y L2-normalised, t = exp(learned log-scale) and b a learned bias.
// Distributed: the texts of every rank are gathered (with gradient) and scored one rank's chunk
// at a time, so no rank holds the [B, world_size * B] logit matrix; the other ranks' chunks hold
// negatives only, as open_clip's neighbour exchange computes them.
#pragma once
#include "slipstream/losses/feature_gather.h"
#include "slipstream/losses/loss.h"

namespace slipstream {

class SiglipLoss : public ContrastiveLoss {
 public:
  explicit SiglipLoss(std::shared_ptr<const FeatureGather> gather = local_feature_gather());
  // Reads image_embed, text_embed [B, E], logit_scale [] and logit_bias [];
  // metrics loss, siglip_loss, clip_acc (image -> text top-1 among this rank's texts).
  LossOutput forward(const ModelOutputs& outputs) const override;

 private:
  std::shared_ptr<const FeatureGather> gather_;
};

}  // namespace slipstream
