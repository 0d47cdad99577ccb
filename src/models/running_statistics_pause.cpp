#include "slipstream/models/running_statistics_pause.h"

#include <torch/nn/modules/batchnorm.h>

namespace slipstream {
namespace {

using PausedLayers = std::vector<std::pair<std::optional<double>*, std::optional<double>>>;

// BatchNorm's running update is running = (1 - momentum) running + momentum batch; a momentum of
// 0 leaves the running tensors bit for bit unchanged (a momentum of nullopt would average instead).
template <typename Layer>
bool pause(torch::nn::Module& module, PausedLayers& out) {
  auto* layer = module.as<Layer>();
  if (layer == nullptr) return false;
  out.emplace_back(&layer->options.momentum(), layer->options.momentum());
  layer->options.momentum(0.0);
  return true;
}

}  // namespace

RunningStatisticsPause::RunningStatisticsPause(torch::nn::Module& root) {
  for (const std::shared_ptr<torch::nn::Module>& module : root.modules(/*include_self=*/true)) {
    if (!module->is_training()) continue;  // eval mode never updates the running statistics
    pause<torch::nn::BatchNorm1dImpl>(*module, paused_) || pause<torch::nn::BatchNorm2dImpl>(*module, paused_) ||
        pause<torch::nn::BatchNorm3dImpl>(*module, paused_);
  }
}

RunningStatisticsPause::~RunningStatisticsPause() {
  for (auto& [momentum, saved] : paused_) *momentum = saved;
}

}  // namespace slipstream
