// SimCLR's NT-Xent (SLIP's SIMCLRLoss): normalise both views, gather with gradient, logits
// ab, aa, ba, bb over the temperature with the self-similarity masked out, mean of the two
// cross-entropies over [ab, aa] and [ba, bb].
#pragma once
#include "slipstream/losses/feature_gather.h"
#include "slipstream/losses/loss.h"

namespace slipstream {

class SimclrLoss : public ContrastiveLoss {
 public:
  explicit SimclrLoss(double temperature = 0.1, std::shared_ptr<const FeatureGather> gather = local_feature_gather());
  // Reads aug1_embed, aug2_embed [B, S]; metrics loss, ssl_loss, ssl_acc.
  LossOutput forward(const ModelOutputs& outputs) const override;
  double temperature() const { return temperature_; }

 private:
  double temperature_;
  std::shared_ptr<const FeatureGather> gather_;
};

}  // namespace slipstream
