// SLIP's objective: image-text loss + ssl_scale * simclr_loss, logging both terms and accuracies.
// The image-text term is CLIP's InfoNCE (SLIP) or, with contrastive "siglip", SigLIP's sigmoid loss.
#pragma once
#include <memory>
#include <string>

#include "slipstream/losses/clip_loss.h"
#include "slipstream/losses/declip_loss.h"
#include "slipstream/losses/siglip_loss.h"
#include "slipstream/losses/simclr_loss.h"

namespace slipstream {

// The image-text loss a model's contrastive_loss names: "clip" -> ClipLoss, "siglip" -> SiglipLoss.
std::unique_ptr<ContrastiveLoss> create_image_text_loss(const std::string& contrastive,
                                                        std::shared_ptr<const FeatureGather> gather,
                                                        bool gather_with_grad = true);

class SlipLoss : public ContrastiveLoss {
 public:
  SlipLoss(double ssl_scale = 1.0, double ssl_temperature = 0.1,
           std::shared_ptr<const FeatureGather> gather = local_feature_gather(), bool clip_gather_with_grad = true,
           const std::string& contrastive = "clip");
  // metrics loss, the image-text term's (clip_loss or siglip_loss, clip_acc), ssl_loss, ssl_acc.
  LossOutput forward(const ModelOutputs& outputs) const override;

 private:
  std::unique_ptr<ContrastiveLoss> image_text_loss_;
  SimclrLoss ssl_loss_;
  double ssl_scale_;
};

// The loss each model family trains with: clip -> ClipLoss, simclr -> SimclrLoss, slip -> SlipLoss,
// declip -> DeclipLoss; contrastive "siglip" puts SigLIP's loss in place of CLIP's for clip and slip.
struct LossOptions {
  double ssl_scale = 1.0;
  double ssl_temperature = 0.1;
  bool gather_with_grad = true;
  std::string contrastive = "clip";  // the model config's contrastive_loss
  int64_t nn_queue_size = 65536;     // DeCLIP's nearest-neighbour queue, per rank
  std::shared_ptr<const FeatureGather> gather = local_feature_gather();
};
std::unique_ptr<ContrastiveLoss> create_loss(const std::string& family, const LossOptions& options = {});

}  // namespace slipstream
