#include "slipstream/losses/slip_loss.h"

#include "slipstream/core/error.h"

namespace slipstream {

std::unique_ptr<ContrastiveLoss> create_image_text_loss(const std::string& contrastive,
                                                        std::shared_ptr<const FeatureGather> gather,
                                                        bool gather_with_grad) {
  if (contrastive == "clip") return std::make_unique<ClipLoss>(std::move(gather), gather_with_grad);
  if (contrastive == "siglip") return std::make_unique<SiglipLoss>(std::move(gather));
  throw ConfigError("no image-text loss '" + contrastive + "' (expected clip or siglip)");
}

SlipLoss::SlipLoss(double ssl_scale, double ssl_temperature, std::shared_ptr<const FeatureGather> gather,
                   bool clip_gather_with_grad, const std::string& contrastive)
    : image_text_loss_(create_image_text_loss(contrastive, gather, clip_gather_with_grad)),
      ssl_loss_(ssl_temperature, gather),
      ssl_scale_(ssl_scale) {}

LossOutput SlipLoss::forward(const ModelOutputs& outputs) const {
  LossOutput image_text = image_text_loss_->forward(outputs);
  LossOutput ssl = ssl_loss_.forward(outputs);
  LossOutput result;
  result.loss = image_text.loss + ssl_scale_ * ssl.loss;
  result.metrics = image_text.metrics;
  result.metrics["ssl_loss"] = ssl.metrics.at("ssl_loss");
  result.metrics["ssl_acc"] = ssl.metrics.at("ssl_acc");
  result.metrics["loss"] = result.loss.detach();
  return result;
}

std::unique_ptr<ContrastiveLoss> create_loss(const std::string& family, const LossOptions& options) {
  if (family == "clip") return create_image_text_loss(options.contrastive, options.gather, options.gather_with_grad);
  if (family == "simclr") return std::make_unique<SimclrLoss>(options.ssl_temperature, options.gather);
  if (family == "slip") {
    return std::make_unique<SlipLoss>(options.ssl_scale, options.ssl_temperature, options.gather,
                                      options.gather_with_grad, options.contrastive);
  }
  if (family == "declip") {
    return std::make_unique<DeclipLoss>(DeclipLossWeights{}, options.nn_queue_size, options.gather,
                                        options.gather_with_grad);
  }
  throw ConfigError("no loss for model family '" + family + "' (expected clip, simclr, slip or declip)");
}

}  // namespace slipstream
