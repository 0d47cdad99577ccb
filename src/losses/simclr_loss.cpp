#include "slipstream/losses/simclr_loss.h"

#include <ATen/ATen.h>

#include "slipstream/core/error.h"

namespace slipstream {

SimclrLoss::SimclrLoss(double temperature, std::shared_ptr<const FeatureGather> gather)
    : temperature_(temperature), gather_(std::move(gather)) {
  if (!(temperature > 0)) throw ConfigError("SimclrLoss: temperature must be positive");
}

LossOutput SimclrLoss::forward(const ModelOutputs& outputs) const {
  check_embedding_pair("SimclrLoss", "aug1_embed", outputs.aug1_embed, "aug2_embed", outputs.aug2_embed);
  const int64_t local_batch = outputs.aug1_embed.size(0);
  at::Tensor q_a = l2_normalize(outputs.aug1_embed);  // [B, S]
  at::Tensor q_b = l2_normalize(outputs.aug2_embed);  // [B, S]
  auto keys = gather_->all_gather({q_a, q_b}, /*with_grad=*/true);  // [W*B, S] each
  const at::Tensor& k_a = keys[0];
  const at::Tensor& k_b = keys[1];
  at::Tensor labels = rank_offset_labels(local_batch, gather_->rank(), q_a.options());
  at::Tensor self_mask = at::one_hot(labels, k_a.size(0)).to(q_a.scalar_type()) * 1e9;  // [B, W*B]

  at::Tensor logits_aa = q_a.matmul(k_a.t()) / temperature_ - self_mask;  // [B, W*B]
  at::Tensor logits_bb = q_b.matmul(k_b.t()) / temperature_ - self_mask;
  at::Tensor logits_ab = q_a.matmul(k_b.t()) / temperature_;
  at::Tensor logits_ba = q_b.matmul(k_a.t()) / temperature_;
  at::Tensor logits_a = at::cat({logits_ab, logits_aa}, 1);  // [B, 2*W*B]
  at::Tensor logits_b = at::cat({logits_ba, logits_bb}, 1);
  at::Tensor loss = (at::cross_entropy_loss(logits_a, labels) + at::cross_entropy_loss(logits_b, labels)) / 2;

  LossOutput result;
  result.loss = loss;
  result.metrics["loss"] = loss.detach();
  result.metrics["ssl_loss"] = loss.detach();
  result.metrics["ssl_acc"] = accuracy_percent(logits_a, labels);
  return result;
}

}  // namespace slipstream
