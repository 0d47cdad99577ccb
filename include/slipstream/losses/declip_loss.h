// DeCLIP's objective (Sense-GVT/DeCLIP) over a DeclipModel's outputs:
//   clip_loss (CLIP + multi-view supervision): the mean of the four symmetric InfoNCE terms of
//     image views {1, 2} x text views {masked caption, EDA caption};
//   nn_loss (nearest-neighbour supervision): the mean of the four image -> NN(text) InfoNCE terms,
//     image views {1, 2} x NN of {caption, EDA caption} in this rank's queue, the neighbours
//     gathered across ranks;
//   simsiam_loss: -0.5 [cos(p1, sg z2) + cos(p2, sg z1)];
//   mlm_loss: cross-entropy of the masked positions.
// loss = 0.4 clip_loss + 0.2 nn_loss + 0.2 simsiam_loss + 0.2 mlm_loss (the YFCC15M configs).
// Each step first looks the neighbours up, then queues the EDA and the caption embeddings.
#pragma once
#include "slipstream/losses/feature_gather.h"
#include "slipstream/losses/loss.h"
#include "slipstream/losses/nearest_neighbour_queue.h"

namespace slipstream {

struct DeclipLossWeights {
  double clip = 0.4;
  double nn = 0.2;
  double simsiam = 0.2;
  double mlm = 0.2;
};

class DeclipLoss : public ContrastiveLoss {
 public:
  explicit DeclipLoss(DeclipLossWeights weights = {}, int64_t queue_size = 65536,
                      std::shared_ptr<const FeatureGather> gather = local_feature_gather(), bool gather_with_grad = true);
  // metrics loss, clip_loss, clip_acc, nn_loss, simsiam_loss, mlm_loss, mlm_acc. Updates the queue.
  LossOutput forward(const ModelOutputs& outputs) const override;
  std::map<std::string, at::Tensor> state() const override;  // "nn_queue.entries"
  void load_state(const std::map<std::string, at::Tensor>& state) override;
  const NearestNeighbourQueue& queue() const { return queue_; }

 private:
  DeclipLossWeights weights_;
  std::shared_ptr<const FeatureGather> gather_;
  bool gather_with_grad_;
  mutable NearestNeighbourQueue queue_;  // the loss's memory across steps
};

}  // namespace slipstream
