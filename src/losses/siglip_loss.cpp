#include "slipstream/losses/siglip_loss.h"

#include <ATen/ATen.h>

#include "slipstream/core/error.h"

namespace slipstream {

SiglipLoss::SiglipLoss(std::shared_ptr<const FeatureGather> gather) : gather_(std::move(gather)) {}

LossOutput SiglipLoss::forward(const ModelOutputs& outputs) const {
  check_embedding_pair("SiglipLoss", "image_embed", outputs.image_embed, "text_embed", outputs.text_embed);
  if (!outputs.logit_scale.defined() || !outputs.logit_bias.defined()) {
    throw ShapeError("SiglipLoss needs logit_scale and logit_bias (a model built with contrastive_loss siglip)");
  }
  const int64_t local_batch = outputs.image_embed.size(0);
  const at::Tensor image = l2_normalize(outputs.image_embed);  // [B, E]
  const at::Tensor text = l2_normalize(outputs.text_embed);    // [B, E]
  const int64_t rank = gather_->rank();
  const at::Tensor all_texts = gather_->all_gather({text}, /*with_grad=*/true)[0];  // [W*B, E]

  // z: +1 on the diagonal of this rank's own chunk, -1 everywhere else.
  const at::Tensor eye = at::eye(local_batch, image.options());
  const at::Tensor own_signs = 2 * eye - 1;  // [B, B]
  at::Tensor loss = at::zeros({}, image.options());
  at::Tensor own_logits;
  for (int64_t r = 0; r < gather_->world_size(); ++r) {
    const at::Tensor chunk = r == rank ? text : all_texts.narrow(0, r * local_batch, local_batch);  // [B, E]
    const at::Tensor logits = outputs.logit_scale * image.matmul(chunk.t()) + outputs.logit_bias;  // [B, B]
    const at::Tensor signed_logits = r == rank ? logits * own_signs : -logits;
    loss = loss - at::log_sigmoid(signed_logits).sum() / static_cast<double>(local_batch);
    if (r == rank) own_logits = logits;
  }

  LossOutput result;
  result.loss = loss;
  result.metrics["loss"] = loss.detach();
  result.metrics["siglip_loss"] = loss.detach();
  result.metrics["clip_acc"] = accuracy_percent(own_logits, at::arange(local_batch, image.options().dtype(at::kLong)));
  return result;
}

}  // namespace slipstream
