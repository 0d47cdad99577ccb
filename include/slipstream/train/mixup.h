// timm's Mixup / CutMix with label smoothing (timm.data.mixup.Mixup, mode "batch") and its loss
// (SoftTargetCrossEntropy), as BEiT's finetuning uses them. One draw per batch: with probability
// `prob` the batch is mixed, by CutMix with probability `switch_prob` (when both are enabled),
// with lam ~ Beta(alpha, alpha) of the chosen method. Mixup blends each image with the batch's
// reverse, lam x + (1 - lam) flip(x); CutMix pastes a box of the reversed batch, the box from
// timm's rand_bbox (sides sqrt(1 - lam) of the image's, centre uniform, clipped) and lam corrected
// to the share of the image left. Targets: one-hot smoothed (off = smoothing / classes,
// on = 1 - smoothing + off), lam y + (1 - lam) flip(y).
#pragma once
#include <ATen/core/Tensor.h>

#include <random>

namespace slipstream {

struct MixupOptions {
  double mixup_alpha = 0.8;   // 0: no mixup
  double cutmix_alpha = 1.0;  // 0: no CutMix
  double prob = 1.0;          // chance a batch is mixed at all
  double switch_prob = 0.5;   // chance of CutMix over mixup when both are enabled
  double label_smoothing = 0.1;
  bool enabled() const { return (mixup_alpha > 0.0 || cutmix_alpha > 0.0) && prob > 0.0; }
};

// What one batch is mixed with.
struct MixDraw {
  double lam = 1.0;  // weight of the batch itself (1: unmixed)
  bool cutmix = false;
  int64_t top = 0, bottom = 0, left = 0, right = 0;  // CutMix box rows [top, bottom), columns [left, right)
};

MixDraw sample_mix(const MixupOptions& options, int64_t height, int64_t width, std::mt19937_64& rng);

// timm's mixup_target: labels [B] int64 -> [B, classes] float soft targets.
at::Tensor mixup_target(const at::Tensor& labels, int64_t classes, double lam, double smoothing);

struct MixedBatch {
  at::Tensor images;   // [B, 3, H, W]
  at::Tensor targets;  // [B, classes]
};
// images [B, 3, H, W] (not modified), labels [B]. B must be even when the draw mixes (timm's check).
MixedBatch mix_batch(const at::Tensor& images, const at::Tensor& labels, const MixDraw& draw, int64_t classes,
                     double smoothing);

// timm's SoftTargetCrossEntropy: mean over rows of sum(-targets x log_softmax(logits)).
at::Tensor soft_target_cross_entropy(const at::Tensor& logits, const at::Tensor& targets);

}  // namespace slipstream
