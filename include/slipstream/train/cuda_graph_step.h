// A training step's forward (model and loss, under autocast) and backward captured once as a CUDA
// graph and replayed on every later step (--cuda-graphs), which removes the per-kernel launch cost
// of a step whose shapes never change. The inputs are copied into static tensors, the graph zeroes
// the gradients and writes new ones into the parameters' .grad, and the optimizer step stays eager
// (its learning rate changes every step). The first `eager_steps` run eagerly on a side stream,
// as capture needs; autocast's cast cache is off inside. One process only (the feature gathers'
// collectives are not captured), no fp16 loss scaling (its scale is a host number). Compiled to a
// refusal in builds without CUDA.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "slipstream/losses/loss.h"
#include "slipstream/models/contrastive_models.h"

namespace slipstream {

class CudaGraphStep {
 public:
  using Forward = std::function<LossOutput(const ModelInputs&)>;
  CudaGraphStep(Forward forward, std::vector<at::Tensor> parameters, int64_t eager_steps = 3);
  ~CudaGraphStep();
  CudaGraphStep(const CudaGraphStep&) = delete;
  CudaGraphStep& operator=(const CudaGraphStep&) = delete;

  // The step for `inputs` (on the device, the same shapes every step): the loss and metrics, valid
  // until the next call; the gradients are in .grad, replacing the previous step's.
  const LossOutput& run(const ModelInputs& inputs);
  bool captured() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace slipstream
