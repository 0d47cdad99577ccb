// open_clip's --aug-cfg for the image-text view (the `clip` recipe), over SLIP's defaults:
//   --aug-cfg scale=(0.9,1.0) interpolation=bicubic color_jitter=(0.4,0.4,0.4,0.1) color_jitter_prob=0.8 gray_scale_prob=0.2
// Each item is KEY=VALUE with open_clip's AugmentationCfg names (scale, ratio, color_jitter,
// color_jitter_prob, gray_scale_prob) plus interpolation; a key left out keeps SLIP's CLIP view
// (RandomResizedCrop(scale (0.5, 1), ratio (3/4, 4/3), bilinear), no jitter, no grayscale).
// open_clip's own trainer: scale=(0.9,1.0) interpolation=bicubic.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "slipstream/data/image/geometric_transforms.h"

namespace slipstream {

struct ViewAugmentation {
  std::optional<std::pair<double, double>> scale;  // RandomResizedCrop's area share
  std::optional<std::pair<double, double>> ratio;  // RandomResizedCrop's aspect ratio
  std::optional<Resampling> interpolation;         // RandomResizedCrop's filter
  std::array<double, 4> color_jitter = {0, 0, 0, 0};  // brightness, contrast, saturation, hue (torchvision ColorJitter)
  double color_jitter_prob = 0.0;  // RandomApply(ColorJitter) probability
  double gray_scale_prob = 0.0;    // RandomGrayscale probability

  bool empty() const;
  bool operator==(const ViewAugmentation& other) const;
};

// The items of --aug-cfg; ConfigError naming the item and what was expected.
ViewAugmentation parse_aug_cfg(const std::vector<std::string>& items);
// Back to items that parse_aug_cfg reads (only the keys set), for the run config.
std::vector<std::string> aug_cfg_items(const ViewAugmentation& augmentation);

}  // namespace slipstream
