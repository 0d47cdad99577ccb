// SLIP's optimizer: AdamW (decoupled weight decay, PyTorch's torch.optim.AdamW arithmetic) over
// parameter groups, stepped by ATen's fused multi-tensor kernel (_fused_adamw_), one launch per
// device and dtype rather than a loop of small per-parameter ops. AMP's loss scale can be passed
// to step(): the kernel unscales the gradients and skips the update where an inf/NaN was found.
#pragma once
#include <ATen/core/Tensor.h>

#include <optional>
#include <string>
#include <vector>

#include "slipstream/core/state_dict.h"

namespace torch::nn {
class Module;
}

namespace slipstream {

struct ParameterGroup {
  std::vector<std::string> names;
  std::vector<at::Tensor> parameters;  // same order as names
  double weight_decay = 0.0;
  double lr_scale = 1.0;  // the group's lr is the optimizer's times this (BEiT's layer-wise decay)
};

// SLIP's main.py split: no weight decay for tensors with fewer than 2 dimensions or names that
// contain "bias", "ln" or "bn" (norms, biases, logit_scale); weight_decay for the rest. Parameters
// that do not require a gradient are left out. Empty groups are dropped.
std::vector<ParameterGroup> slip_parameter_groups(const torch::nn::Module& model, double weight_decay);

struct AdamWOptions {
  double lr = 3e-3;
  double beta1 = 0.9;
  double beta2 = 0.98;
  double eps = 1e-8;
};

class AdamW {
 public:
  AdamW(std::vector<ParameterGroup> groups, AdamWOptions options);

  void set_lr(double lr) { options_.lr = lr; }  // every group, times its lr_scale
  double lr() const { return options_.lr; }
  const std::vector<ParameterGroup>& groups() const { return groups_; }

  // One update of every parameter that has a gradient. With AMP's fp16 scaling, grad_scale ([]
  // float) divides the gradients first, and a nonzero found_inf ([] float) leaves the parameters,
  // the moments and the step counts as they were.
  void step(const std::optional<at::Tensor>& grad_scale = std::nullopt,
            const std::optional<at::Tensor>& found_inf = std::nullopt);
  void zero_grad();  // gradients set to undefined, as zero_grad(set_to_none=True)

  // The moments and step counts by parameter name: "exp_avg/<name>", "exp_avg_sq/<name>",
  // "step/<name>" (parameters never stepped have none), for checkpoints.
  StateDict state() const;
  // Restores state(); throws StateDictError naming an entry of an unknown parameter or of the wrong shape.
  void load_state(const StateDict& state);

 private:
  struct Moments {
    at::Tensor exp_avg, exp_avg_sq, step;  // step: [] float, on the parameter's device
  };
  Moments& moments_of(const std::string& name, const at::Tensor& parameter);

  std::vector<ParameterGroup> groups_;
  AdamWOptions options_;
  std::map<std::string, Moments> moments_;
};

}  // namespace slipstream
