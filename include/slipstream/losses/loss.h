// The interface of the pre-training losses: model outputs in, the loss to minimise and the
// metrics SLIP logs (loss, clip_loss, clip_acc, ssl_loss, ssl_acc) out.
#pragma once
#include <ATen/core/Tensor.h>

#include <map>
#include <string>

#include "slipstream/models/contrastive_models.h"

namespace slipstream {

struct LossOutput {
  at::Tensor loss;                            // [] differentiable
  std::map<std::string, at::Tensor> metrics;  // [] each, detached; always holds "loss"
};

class ContrastiveLoss {
 public:
  virtual ~ContrastiveLoss() = default;
  virtual LossOutput forward(const ModelOutputs& outputs) const = 0;
  // A loss with memory across steps (DeCLIP's nearest-neighbour queue) saves it in checkpoints.
  virtual std::map<std::string, at::Tensor> state() const { return {}; }
  virtual void load_state(const std::map<std::string, at::Tensor>& state) {}
};

// Throws ShapeError unless both embeddings are defined and of the same shape [B, D].
void check_embedding_pair(const char* loss, const char* first_name, const at::Tensor& first, const char* second_name,
                          const at::Tensor& second);

// L2-normalises the last dimension as F.normalize(x, p=2, dim=-1, eps=1e-12) does.
at::Tensor l2_normalize(const at::Tensor& x);

// This rank's rows among the gathered ones: rank * local_batch + arange(local_batch). [B] int64
at::Tensor rank_offset_labels(int64_t local_batch, int64_t rank, const at::TensorOptions& options);

// 100 * (argmax over each row == label) / rows, detached. []
at::Tensor accuracy_percent(const at::Tensor& logits, const at::Tensor& labels);

}  // namespace slipstream
