// SGD with momentum (torch.optim.SGD's arithmetic, dampening 0), stepped by ATen's fused
// multi-tensor kernel (_fused_sgd_), one launch per group, device and dtype: the linear probe's
// optimizer (MoCo v3's recipe: momentum 0.9, no weight decay).
#pragma once
#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <vector>

#include "slipstream/core/state_dict.h"
#include "slipstream/train/adamw.h"

namespace slipstream {

struct SgdOptions {
  double lr = 0.1;
  double momentum = 0.9;
  bool nesterov = false;
};

class Sgd {
 public:
  Sgd(std::vector<ParameterGroup> groups, SgdOptions options);  // weight decay per group
  void set_lr(double lr) { options_.lr = lr; }
  double lr() const { return options_.lr; }
  void step();       // parameters without a gradient are left alone
  void zero_grad();  // gradients set to undefined
  StateDict state() const;  // "momentum_buffer/<name>"
  void load_state(const StateDict& state);

 private:
  std::vector<ParameterGroup> groups_;
  SgdOptions options_;
  std::map<std::string, at::Tensor> momentum_buffers_;
};

}  // namespace slipstream
