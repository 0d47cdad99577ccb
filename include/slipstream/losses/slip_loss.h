// SLIP's objective: clip_loss + ssl_scale * simclr_loss, logging both terms and accuracies.
#pragma once
#include "slipstream/losses/clip_loss.h"
#include "slipstream/losses/simclr_loss.h"

namespace slipstream {

class SlipLoss : public ContrastiveLoss {
 public:
  SlipLoss(double ssl_scale = 1.0, double ssl_temperature = 0.1,
           std::shared_ptr<const FeatureGather> gather = local_feature_gather(), bool clip_gather_with_grad = true);
  // metrics loss, clip_loss, clip_acc, ssl_loss, ssl_acc.
  LossOutput forward(const ModelOutputs& outputs) const override;

 private:
  ClipLoss clip_loss_;
  SimclrLoss ssl_loss_;
  double ssl_scale_;
};

// The loss SLIP pairs with each model family: clip -> ClipLoss, simclr -> SimclrLoss, slip -> SlipLoss.
struct LossOptions {
  double ssl_scale = 1.0;
  double ssl_temperature = 0.1;
  bool gather_with_grad = true;
  std::shared_ptr<const FeatureGather> gather = local_feature_gather();
};
std::unique_ptr<ContrastiveLoss> create_loss(const std::string& family, const LossOptions& options = {});

}  // namespace slipstream
