// DeCLIP's loss pieces: the nearest-neighbour queue (FIFO order, wrap-around, lookups, checkpoint
// state) and DeclipLoss's cross-rank arithmetic: at the first step (empty queues, each text its
// own neighbour) two simulated ranks with batch B give one process's loss and gradients with 2B.
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include "slipstream/core/error.h"
#include "slipstream/losses/declip_loss.h"

namespace slipstream {
namespace {

TEST(NearestNeighbourQueue, KeepsTheNewestEntriesAndFindsTheMostSimilar) {
  NearestNeighbourQueue queue(4);
  const at::Tensor queries = l2_normalize(at::tensor({1.0f, 0.1f, 0.0f, 1.0f}).view({2, 2}));
  EXPECT_TRUE(at::equal(queue.nearest(queries), queries));  // empty: each query is its own neighbour
  queue.push(at::tensor({1.0f, 0.0f, 0.0f, 1.0f, -1.0f, 0.0f}).view({3, 2}));
  EXPECT_EQ(queue.size(), 3);
  EXPECT_TRUE(at::equal(queue.nearest(queries), at::tensor({1.0f, 0.0f, 0.0f, 1.0f}).view({2, 2})));
  // Two more: the oldest, (1, 0), is overwritten; the state lists the ring oldest first.
  queue.push(at::tensor({0.0f, -1.0f, 0.6f, 0.8f}).view({2, 2}));
  EXPECT_EQ(queue.size(), 4);
  const at::Tensor entries = queue.state().at("entries");
  EXPECT_TRUE(at::equal(entries, at::tensor({0.0f, 1.0f, -1.0f, 0.0f, 0.0f, -1.0f, 0.6f, 0.8f}).view({4, 2})));
  EXPECT_TRUE(at::allclose(queue.nearest(queries.narrow(0, 0, 1)), at::tensor({0.6f, 0.8f}).view({1, 2})));
  NearestNeighbourQueue restored(4);
  restored.load_state(queue.state());
  EXPECT_TRUE(at::equal(restored.state().at("entries"), entries));
  EXPECT_THROW(queue.push(at::zeros({1, 3})), ShapeError);
  EXPECT_THROW(NearestNeighbourQueue(0), ConfigError);
}

// Rank `rank` of a simulated world: gathered tensors are the full-batch ones (normalised like the
// loss's own), this rank's slice being the caller's tensor.
class SimulatedGather : public FeatureGather {
 public:
  SimulatedGather(int64_t rank, std::vector<at::Tensor> full) : rank_(rank), full_(std::move(full)) {}
  int64_t rank() const override { return rank_; }
  int64_t world_size() const override { return 2; }
  std::vector<at::Tensor> all_gather(const std::vector<at::Tensor>& tensors, bool with_grad) const override {
    std::vector<at::Tensor> result;
    const int64_t local = tensors[0].size(0);
    for (size_t i = 0; i < tensors.size(); ++i) {
      // The neighbours (second call, two tensors): at the first step each text is its own.
      const at::Tensor& source = tensors.size() == 2 ? full_[2 + i] : full_[i];
      std::vector<at::Tensor> pieces;
      for (int64_t r = 0; r < 2; ++r) {
        at::Tensor piece = r == rank_ ? tensors[i] : l2_normalize(source.slice(0, r * local, (r + 1) * local));
        pieces.push_back(with_grad || r == rank_ ? piece : piece.detach());
      }
      result.push_back(at::cat(pieces, 0));
    }
    return result;
  }

 private:
  int64_t rank_;
  std::vector<at::Tensor> full_;
};

ModelOutputs rows_of(const ModelOutputs& full, int64_t first, int64_t count, int64_t mlm_first, int64_t mlm_count) {
  ModelOutputs out;
  out.image_embed = full.image_embed.narrow(0, first, count);
  out.image_embed_2 = full.image_embed_2.narrow(0, first, count);
  out.text_embed = full.text_embed.narrow(0, first, count);
  out.text_aug_embed = full.text_aug_embed.narrow(0, first, count);
  out.simsiam_p1 = full.simsiam_p1.narrow(0, first, count);
  out.simsiam_p2 = full.simsiam_p2.narrow(0, first, count);
  out.simsiam_z1 = full.simsiam_z1.narrow(0, first, count);
  out.simsiam_z2 = full.simsiam_z2.narrow(0, first, count);
  out.mlm_logits = full.mlm_logits.narrow(0, mlm_first, mlm_count);
  out.mlm_labels = full.mlm_labels.narrow(0, mlm_first, mlm_count);
  out.logit_scale = full.logit_scale;
  return out;
}

TEST(DeclipLoss, TwoSimulatedRanksEqualOneProcessAtTheFirstStep) {
  at::manual_seed(11);
  const int64_t local = 4;
  std::vector<at::Tensor> leaves;
  for (int i = 0; i < 4; ++i) leaves.push_back(at::randn({2 * local, 16}).requires_grad_(true));  // i1 i2 t ta
  for (int i = 0; i < 4; ++i) leaves.push_back(at::randn({2 * local, 12}).requires_grad_(true));  // p1 p2 z1 z2
  leaves.push_back(at::randn({6, 30}).requires_grad_(true));  // mlm logits: 3 masked positions per rank
  leaves.push_back(at::full({}, 3.0).requires_grad_(true));
  ModelOutputs full;
  full.image_embed = leaves[0], full.image_embed_2 = leaves[1], full.text_embed = leaves[2], full.text_aug_embed = leaves[3];
  full.simsiam_p1 = leaves[4], full.simsiam_p2 = leaves[5], full.simsiam_z1 = leaves[6], full.simsiam_z2 = leaves[7];
  full.mlm_logits = leaves[8];
  full.mlm_labels = at::randint(30, {6}, at::kLong);
  full.logit_scale = leaves[9].exp();

  const LossOutput single = DeclipLoss().forward(full);
  // allow_unused: SimSiam's targets z1, z2 get no gradient here (stop-gradient; in the model they
  // get it through the predictor).
  const auto single_grads = torch::autograd::grad({single.loss}, leaves, {}, true, false, true);
  at::Tensor mean = at::zeros({});
  for (int64_t rank = 0; rank < 2; ++rank) {
    auto gather = std::make_shared<SimulatedGather>(
        rank, std::vector<at::Tensor>{full.image_embed, full.image_embed_2, full.text_embed, full.text_aug_embed});
    DeclipLoss loss(DeclipLossWeights{}, 65536, gather);
    mean = mean + loss.forward(rows_of(full, rank * local, local, rank * 3, 3)).loss / 2;
    EXPECT_EQ(loss.queue().size(), 2 * local);  // this rank's texts only
  }
  EXPECT_NEAR(mean.item<double>(), single.loss.item<double>(), 1e-5);
  const auto distributed_grads = torch::autograd::grad({mean}, leaves, {}, false, false, true);
  for (size_t i = 0; i < leaves.size(); ++i) {
    EXPECT_EQ(single_grads[i].defined(), i != 6 && i != 7) << "leaf " << i;
    if (!single_grads[i].defined()) continue;
    EXPECT_LT((single_grads[i] - distributed_grads[i]).abs().max().item<double>(), 1e-5) << "leaf " << i;
  }
}

TEST(DeclipLoss, RefusesOutputsOfOtherModels) {
  ModelOutputs clip{at::randn({4, 8}), at::randn({4, 8}), {}, {}, at::full({}, 10.0)};
  EXPECT_THROW(DeclipLoss().forward(clip), ShapeError);
}

}  // namespace
}  // namespace slipstream
