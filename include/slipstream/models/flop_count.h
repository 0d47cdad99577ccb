// Floating-point operations of a training step, counted from the model config: 2 per multiply-add
// of every matrix product and convolution (the patch embedding, attention's projections and its two
// products, the MLPs, the ResNet's convolutions, the attention pool, the heads, the loss's logits),
// which is what torch.utils.flop_counter.FlopCounterMode counts (norms, activations, softmax and
// additions are not). The backward pass is twice the forward (a gradient for each operand), less the
// first layer's input gradient (the images need none). The modified ResNet's attention pool is
// counted as open_clip's runs it, every token a query; slipstream's computes the first query only.
// ParityFlops checks the towers against FlopCounterMode on timm's and open_clip's models.
#pragma once
#include <cstdint>

#include "slipstream/models/model_config.h"

namespace slipstream {

struct FlopCount {
  double forward = 0.0;
  double backward = 0.0;
  double total() const { return forward + backward; }
  FlopCount& operator+=(const FlopCount& other);
};

// One image tower pass over `batch` images of side `image_size` (0: the config's), up to its
// pooled output (the ViT's CLS token after the final norm, the ResNet's attention pool).
FlopCount vision_tower_flops(const VisionConfig& vision, int64_t batch, int64_t image_size = 0);
// One text tower pass over `batch` captions of the full context, up to ln_final.
FlopCount text_tower_flops(const TextConfig& text, int64_t batch);

struct TrainingStepFlops {
  FlopCount vision;  // every view of the family (SLIP: the CLIP view and two SimCLR views)
  FlopCount text;
  FlopCount heads;   // image / text projections, SimCLR's MLP
  FlopCount loss;    // the logits of the contrastive losses over the gathered batch
  FlopCount total() const;
};

// One optimizer step of pre-training with `batch` samples per process and `world_size` processes
// (the losses' logits span the gathered batch); per process. ConfigError for DeCLIP (not counted).
TrainingStepFlops training_step_flops(const ModelConfig& config, int64_t batch, int64_t world_size = 1);

}  // namespace slipstream
