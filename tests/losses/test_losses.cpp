// Losses: hand-computed values, accuracies, and the cross-rank arithmetic: two simulated ranks
// with batch B give the same loss and gradients as one process with batch 2B.
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>

#include "slipstream/core/error.h"
#include "slipstream/losses/slip_loss.h"

namespace slipstream {
namespace {

// Rank `rank` of a simulated world: all_gather returns the full-batch tensors registered for the
// call, in rank order, with this rank's slice being the caller's own tensor, as c10d's gather with
// gradient would deliver.
class SimulatedGather : public FeatureGather {
 public:
  SimulatedGather(int64_t rank, int64_t world, std::vector<at::Tensor> full) : rank_(rank), world_(world), full_(full) {}
  int64_t rank() const override { return rank_; }
  int64_t world_size() const override { return world_; }
  std::vector<at::Tensor> all_gather(const std::vector<at::Tensor>& tensors, bool with_grad) const override {
    std::vector<at::Tensor> result;
    for (size_t i = 0; i < tensors.size(); ++i) {
      const int64_t local = tensors[i].size(0);
      std::vector<at::Tensor> pieces;
      for (int64_t r = 0; r < world_; ++r) {
        at::Tensor piece = r == rank_ ? tensors[i] : l2_normalize(full_[i].slice(0, r * local, (r + 1) * local));
        pieces.push_back(with_grad || r == rank_ ? piece : piece.detach());
      }
      result.push_back(at::cat(pieces, 0));
    }
    return result;
  }

 private:
  int64_t rank_, world_;
  std::vector<at::Tensor> full_;
};

ModelOutputs slice_outputs(const ModelOutputs& full, int64_t rank, int64_t local) {
  ModelOutputs out;
  out.image_embed = full.image_embed.slice(0, rank * local, (rank + 1) * local);
  out.text_embed = full.text_embed.slice(0, rank * local, (rank + 1) * local);
  out.aug1_embed = full.aug1_embed.slice(0, rank * local, (rank + 1) * local);
  out.aug2_embed = full.aug2_embed.slice(0, rank * local, (rank + 1) * local);
  out.logit_scale = full.logit_scale;
  out.logit_bias = full.logit_bias;
  return out;
}

TEST(Losses, TwoSimulatedRanksEqualOneProcessWithTheWholeBatch) {
  at::manual_seed(4);
  const int64_t local = 4, world = 2;
  std::vector<at::Tensor> leaves = {at::randn({world * local, 16}), at::randn({world * local, 16}),
                                    at::randn({world * local, 8}), at::randn({world * local, 8}), at::full({}, 2.0),
                                    at::full({}, -1.5)};
  for (auto& leaf : leaves) leaf.requires_grad_(true);

  for (const std::string name : {"clip", "simclr", "slip", "siglip"}) {
    SCOPED_TRACE(name);
    // "siglip": the clip family with SigLIP's loss, which gathers the texts alone.
    const char* family = name == "siglip" ? "clip" : name.c_str();
    LossOptions single_options;
    single_options.contrastive = name == "siglip" ? "siglip" : "clip";
    ModelOutputs full{leaves[0], leaves[1], leaves[2], leaves[3], leaves[4].exp(), leaves[5]};
    LossOutput single = create_loss(family, single_options)->forward(full);
    auto single_grads = torch::autograd::grad({single.loss}, leaves, {}, true, false, /*allow_unused=*/true);

    at::Tensor mean_loss = at::zeros({});
    for (int64_t rank = 0; rank < world; ++rank) {
      LossOptions options = single_options;
      // Other ranks' rows are normalised copies of the same leaves: gradient flows to them too.
      options.gather = std::make_shared<SimulatedGather>(
          rank, world, std::vector<at::Tensor>{full.image_embed, full.text_embed});
      if (name == "siglip") {
        options.gather = std::make_shared<SimulatedGather>(rank, world, std::vector<at::Tensor>{full.text_embed});
      }
      if (std::string(family) == "simclr") {
        options.gather = std::make_shared<SimulatedGather>(
            rank, world, std::vector<at::Tensor>{full.aug1_embed, full.aug2_embed});
      }
      if (std::string(family) == "slip") {
        // SLIP gathers image/text for CLIP and aug1/aug2 for SimCLR through the same object.
        struct SlipGather : FeatureGather {
          SlipGather(int64_t rank, int64_t world, const ModelOutputs& full)
              : clip(rank, world, {full.image_embed, full.text_embed}),
                ssl(rank, world, {full.aug1_embed, full.aug2_embed}),
                clip_width(full.image_embed.size(1)) {}
          int64_t rank() const override { return clip.rank(); }
          int64_t world_size() const override { return clip.world_size(); }
          std::vector<at::Tensor> all_gather(const std::vector<at::Tensor>& t, bool g) const override {
            return t[0].size(1) == clip_width ? clip.all_gather(t, g) : ssl.all_gather(t, g);
          }
          SimulatedGather clip, ssl;
          int64_t clip_width;
        };
        options.gather = std::make_shared<SlipGather>(rank, world, full);
      }
      LossOutput part = create_loss(family, options)->forward(slice_outputs(full, rank, local));
      mean_loss = mean_loss + part.loss / world;
    }
    EXPECT_NEAR(mean_loss.item<double>(), single.loss.item<double>(), 1e-5);
    auto distributed_grads = torch::autograd::grad({mean_loss}, leaves, {}, false, false, true);
    for (size_t i = 0; i < leaves.size(); ++i) {
      if (!single_grads[i].defined()) continue;
      ASSERT_TRUE(distributed_grads[i].defined()) << i;
      EXPECT_LT((single_grads[i] - distributed_grads[i]).abs().max().item<double>(), 1e-5) << "leaf " << i;
    }
  }
}

TEST(Losses, ClipLossOnOrthonormalPairsMatchesTheClosedForm) {
  const int64_t batch = 5;
  const double scale = 10.0;
  at::Tensor embeddings = at::eye(batch).mul(3.0);  // normalised to the identity
  ModelOutputs outputs;
  outputs.image_embed = embeddings;
  outputs.text_embed = embeddings.clone();
  outputs.logit_scale = at::full({}, scale);
  LossOutput result = ClipLoss().forward(outputs);
  // Each row: the matching column has logit s, the other B-1 have 0.
  const double expected = -std::log(std::exp(scale) / (std::exp(scale) + (batch - 1)));
  EXPECT_NEAR(result.loss.item<double>(), expected, 1e-6);
  EXPECT_EQ(result.metrics.at("clip_acc").item<double>(), 100.0);
  EXPECT_EQ(result.metrics.at("clip_loss").item<double>(), result.metrics.at("loss").item<double>());
}

TEST(Losses, SiglipLossOnOrthonormalPairsMatchesTheClosedForm) {
  const int64_t batch = 5;
  const double scale = 10.0, bias = -3.0;
  at::Tensor embeddings = at::eye(batch).mul(2.0);  // normalised to the identity
  ModelOutputs outputs;
  outputs.image_embed = embeddings;
  outputs.text_embed = embeddings.clone();
  outputs.logit_scale = at::full({}, scale);
  outputs.logit_bias = at::full({}, bias);
  LossOutput result = SiglipLoss().forward(outputs);
  // Per image: the matching text has logit t + b (label +1), the other B-1 have b (label -1).
  const auto log_sigmoid = [](double x) { return -std::log1p(std::exp(-x)); };
  const double expected = -(log_sigmoid(scale + bias) + (batch - 1) * log_sigmoid(-bias));
  EXPECT_NEAR(result.loss.item<double>(), expected, 1e-6);
  EXPECT_EQ(result.metrics.at("clip_acc").item<double>(), 100.0);
  EXPECT_EQ(result.metrics.at("siglip_loss").item<double>(), result.metrics.at("loss").item<double>());
  outputs.logit_bias = at::Tensor();
  EXPECT_THROW(SiglipLoss().forward(outputs), ShapeError);  // a CLIP-built model has no bias
}

TEST(Losses, SlipWithSiglipReplacesTheImageTextTerm) {
  at::manual_seed(8);
  ModelOutputs outputs{at::randn({6, 16}), at::randn({6, 16}), at::randn({6, 8}), at::randn({6, 8}),
                       at::full({}, 10.0), at::full({}, -10.0)};
  LossOptions options;
  options.contrastive = "siglip";
  const LossOutput slip = create_loss("slip", options)->forward(outputs);
  const LossOutput siglip = SiglipLoss().forward(outputs);
  const LossOutput ssl = SimclrLoss().forward(outputs);
  EXPECT_NEAR(slip.loss.item<double>(), siglip.loss.item<double>() + ssl.loss.item<double>(), 1e-5);
  EXPECT_EQ(slip.metrics.count("siglip_loss"), 1u);
  EXPECT_EQ(slip.metrics.count("clip_loss"), 0u);
  options.contrastive = "sigmoid";
  EXPECT_THROW(create_loss("clip", options), ConfigError);
}

TEST(Losses, ClipAccuracyCountsArgmaxHits) {
  // Rows 0 and 1 swapped in the text embeddings: 2 of 4 rows miss.
  at::Tensor image = at::eye(4);
  at::Tensor text = image.index_select(0, at::tensor({1, 0, 2, 3}, at::kLong));
  ModelOutputs outputs{image, text, {}, {}, at::full({}, 1.0)};
  EXPECT_EQ(ClipLoss().forward(outputs).metrics.at("clip_acc").item<double>(), 50.0);
}

TEST(Losses, SimclrMasksSelfSimilarityAsInTheClosedForm) {
  const int64_t batch = 6;
  at::Tensor views = at::eye(batch);
  ModelOutputs outputs;
  outputs.aug1_embed = views;
  outputs.aug2_embed = views.clone();
  LossOutput result = SimclrLoss(0.1).forward(outputs);
  // Row i of [ab, aa]: ab_ii = 10, the other 2(B-1) entries 0; aa_ii is masked out (-1e9).
  const double expected = -std::log(std::exp(10.0) / (std::exp(10.0) + 2 * (batch - 1)));
  EXPECT_NEAR(result.loss.item<double>(), expected, 1e-5);
  EXPECT_EQ(result.metrics.at("ssl_acc").item<double>(), 100.0);
}

TEST(Losses, SlipLossAddsScaledSsl) {
  at::manual_seed(5);
  ModelOutputs outputs{at::randn({4, 8}), at::randn({4, 8}), at::randn({4, 6}), at::randn({4, 6}), at::full({}, 14.0)};
  const double clip = ClipLoss().forward(outputs).loss.item<double>();
  const double ssl = SimclrLoss().forward(outputs).loss.item<double>();
  LossOutput slip = SlipLoss(0.5).forward(outputs);
  EXPECT_NEAR(slip.loss.item<double>(), clip + 0.5 * ssl, 1e-5);
  for (const char* key : {"loss", "clip_loss", "clip_acc", "ssl_loss", "ssl_acc"}) EXPECT_TRUE(slip.metrics.count(key)) << key;
}

TEST(Losses, MissingOrMismatchedEmbeddingsAreShapeErrors) {
  ModelOutputs outputs{at::randn({4, 8}), at::randn({3, 8}), {}, {}, at::full({}, 1.0)};
  EXPECT_THROW(ClipLoss().forward(outputs), ShapeError);
  EXPECT_THROW(SimclrLoss().forward(outputs), ShapeError);
  EXPECT_THROW(create_loss("dino"), ConfigError);
  EXPECT_THROW(SimclrLoss(0.0), ConfigError);
}

}  // namespace
}  // namespace slipstream
