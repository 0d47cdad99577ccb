#include "slipstream/losses/clip_loss.h"

#include <ATen/ATen.h>

#include "slipstream/core/error.h"

namespace slipstream {

ClipLoss::ClipLoss(std::shared_ptr<const FeatureGather> gather, bool gather_with_grad)
    : gather_(std::move(gather)), gather_with_grad_(gather_with_grad) {}

LossOutput ClipLoss::forward(const ModelOutputs& outputs) const {
  check_embedding_pair("ClipLoss", "image_embed", outputs.image_embed, "text_embed", outputs.text_embed);
  if (!outputs.logit_scale.defined()) throw ShapeError("ClipLoss needs logit_scale");
  const int64_t local_batch = outputs.image_embed.size(0);
  at::Tensor image = l2_normalize(outputs.image_embed);  // [B, E]
  at::Tensor text = l2_normalize(outputs.text_embed);    // [B, E]
  auto gathered = gather_->all_gather({image, text}, gather_with_grad_);  // [W*B, E] each
  at::Tensor labels = rank_offset_labels(local_batch, gather_->rank(), image.options());

  at::Tensor logits_per_image = outputs.logit_scale * image.matmul(gathered[1].t());  // [B, W*B]
  at::Tensor logits_per_text = outputs.logit_scale * text.matmul(gathered[0].t());    // [B, W*B]
  at::Tensor loss = (at::cross_entropy_loss(logits_per_image, labels) +
                     at::cross_entropy_loss(logits_per_text, labels)) / 2;

  LossOutput result;
  result.loss = loss;
  result.metrics["loss"] = loss.detach();
  result.metrics["clip_loss"] = loss.detach();
  result.metrics["clip_acc"] = accuracy_percent(logits_per_image, labels);
  return result;
}

}  // namespace slipstream
