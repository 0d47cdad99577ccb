// Pauses the running-statistics updates of the BatchNorm layers of a module tree: inside the
// guard's scope each layer in training mode still normalises by its batch's statistics, but its
// running mean and variance (what evaluation normalises by) stay as they were.
//
// SLIP on a BatchNorm tower (the demo's modified ResNet) uses it for the two SimCLR views, so the
// running statistics follow the CLIP view alone: colour jitter, grayscale, blur and small crops
// are augmentations that evaluation never sees. SLIP's own towers (ViTs) have no BatchNorm.
#pragma once
#include <torch/nn/module.h>

#include <optional>
#include <utility>
#include <vector>

namespace slipstream {

class RunningStatisticsPause {
 public:
  explicit RunningStatisticsPause(torch::nn::Module& root);
  ~RunningStatisticsPause();  // restores each layer's momentum
  RunningStatisticsPause(const RunningStatisticsPause&) = delete;
  RunningStatisticsPause& operator=(const RunningStatisticsPause&) = delete;

 private:
  // Each paused layer's options.momentum() and the value it had.
  std::vector<std::pair<std::optional<double>*, std::optional<double>>> paused_;
};

}  // namespace slipstream
