#include "slipstream/losses/declip_loss.h"

#include <ATen/ATen.h>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

constexpr const char* kQueuePrefix = "nn_queue.";  // the queue's tensors in the loss state

void require_output(const at::Tensor& tensor, const char* name) {
  if (!tensor.defined()) throw ShapeError(std::string("DeclipLoss needs ") + name + " (a DeCLIP model's outputs)");
}

}  // namespace

DeclipLoss::DeclipLoss(DeclipLossWeights weights, int64_t queue_size, std::shared_ptr<const FeatureGather> gather,
                       bool gather_with_grad)
    : weights_(weights), gather_(std::move(gather)), gather_with_grad_(gather_with_grad), queue_(queue_size) {}

LossOutput DeclipLoss::forward(const ModelOutputs& outputs) const {
  check_embedding_pair("DeclipLoss", "image_embed", outputs.image_embed, "text_embed", outputs.text_embed);
  check_embedding_pair("DeclipLoss", "image_embed_2", outputs.image_embed_2, "text_aug_embed", outputs.text_aug_embed);
  for (const auto& [tensor, name] : {std::pair{&outputs.logit_scale, "logit_scale"}, {&outputs.simsiam_p1, "simsiam_p1"},
                                     {&outputs.simsiam_p2, "simsiam_p2"}, {&outputs.simsiam_z1, "simsiam_z1"},
                                     {&outputs.simsiam_z2, "simsiam_z2"}, {&outputs.mlm_logits, "mlm_logits"},
                                     {&outputs.mlm_labels, "mlm_labels"}}) {
    require_output(*tensor, name);
  }
  const int64_t local_batch = outputs.image_embed.size(0);
  const at::Tensor& scale = outputs.logit_scale;
  const at::Tensor images[2] = {l2_normalize(outputs.image_embed), l2_normalize(outputs.image_embed_2)};  // [B, E]
  const at::Tensor texts[2] = {l2_normalize(outputs.text_embed), l2_normalize(outputs.text_aug_embed)};   // [B, E]
  const std::vector<at::Tensor> all =
      gather_->all_gather({images[0], images[1], texts[0], texts[1]}, gather_with_grad_);  // [W*B, E] each
  const at::Tensor labels = rank_offset_labels(local_batch, gather_->rank(), images[0].options());

  // CLIP + multi-view supervision: 2 image views x 2 text views, symmetric InfoNCE each.
  at::Tensor clip_loss = at::zeros({}, images[0].options());
  at::Tensor first_logits;
  for (int i = 0; i < 2; ++i) {
    for (int t = 0; t < 2; ++t) {
      const at::Tensor per_image = scale * images[i].matmul(all[2 + t].t());  // [B, W*B]
      const at::Tensor per_text = scale * texts[t].matmul(all[i].t());        // [B, W*B]
      clip_loss = clip_loss + (at::cross_entropy_loss(per_image, labels) + at::cross_entropy_loss(per_text, labels)) / 8;
      if (i == 0 && t == 0) first_logits = per_image;
    }
  }

  // Nearest-neighbour supervision: both lookups see the queue as it was before this step.
  const at::Tensor neighbours[2] = {queue_.nearest(texts[0]), queue_.nearest(texts[1])};  // [B, E]
  queue_.push(texts[1]);
  queue_.push(texts[0]);
  const std::vector<at::Tensor> all_neighbours = gather_->all_gather({neighbours[0], neighbours[1]}, false);
  at::Tensor nn_loss = at::zeros({}, images[0].options());
  for (int i = 0; i < 2; ++i) {
    for (int t = 0; t < 2; ++t) {
      nn_loss = nn_loss + at::cross_entropy_loss(scale * images[i].matmul(all_neighbours[t].t()), labels) / 4;
    }
  }

  // SimSiam on the projected image embeddings.
  const at::Tensor simsiam_loss =
      -0.5 * (at::cosine_similarity(outputs.simsiam_p1, outputs.simsiam_z2.detach(), 1).mean() +
              at::cosine_similarity(outputs.simsiam_p2, outputs.simsiam_z1.detach(), 1).mean());

  // Masked language modelling (no masked position in the batch: no term).
  const bool any_masked = outputs.mlm_labels.numel() > 0;
  const at::Tensor mlm_loss = any_masked ? at::cross_entropy_loss(outputs.mlm_logits, outputs.mlm_labels)
                                         : outputs.mlm_logits.sum() * 0.0;

  const at::Tensor loss = weights_.clip * clip_loss + weights_.nn * nn_loss + weights_.simsiam * simsiam_loss +
                          weights_.mlm * mlm_loss;
  LossOutput result;
  result.loss = loss;
  result.metrics["loss"] = loss.detach();
  result.metrics["clip_loss"] = clip_loss.detach();
  result.metrics["clip_acc"] = accuracy_percent(first_logits, labels);
  result.metrics["nn_loss"] = nn_loss.detach();
  result.metrics["simsiam_loss"] = simsiam_loss.detach();
  result.metrics["mlm_loss"] = mlm_loss.detach();
  result.metrics["mlm_acc"] = any_masked ? accuracy_percent(outputs.mlm_logits, outputs.mlm_labels)
                                         : at::zeros({}, images[0].options());
  return result;
}

std::map<std::string, at::Tensor> DeclipLoss::state() const {
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, tensor] : queue_.state()) out[kQueuePrefix + name] = tensor;
  return out;
}

void DeclipLoss::load_state(const std::map<std::string, at::Tensor>& state) {
  std::map<std::string, at::Tensor> queue_state;
  for (const auto& [name, tensor] : state) {
    if (name.rfind(kQueuePrefix, 0) == 0) queue_state[name.substr(std::string(kQueuePrefix).size())] = tensor;
  }
  queue_.load_state(queue_state);
}

}  // namespace slipstream
