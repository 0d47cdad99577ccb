// Dynamic loss scaling for fp16 training, as PyTorch's GradScaler: the loss is multiplied by the
// scale before backward; each step checks the gradients for inf/NaN, and the optimizer unscales
// them and updates, or skips the update when one was found. The scale halves after a skipped
// step and doubles after `growth_interval` clean steps in a row. Disabled (bf16 or fp32 training),
// it passes the loss and the step through unchanged.
#pragma once
#include <ATen/core/Tensor.h>

#include "slipstream/core/state_dict.h"

namespace slipstream {

class AdamW;

struct GradScalerOptions {
  bool enabled = true;
  double init_scale = 65536.0;
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

class GradScaler {
 public:
  explicit GradScaler(GradScalerOptions options = {});

  bool enabled() const { return options_.enabled; }
  at::Tensor scale(const at::Tensor& loss);  // loss * scale (the loss itself when disabled)
  // Steps the optimizer with the scale and the inf check, then updates the scale. Returns false
  // when the step was skipped because a gradient was not finite.
  bool step(AdamW& optimizer);
  double current_scale() const;  // 1 when disabled

  StateDict state() const;  // "scale", "growth_tracker"
  void load_state(const StateDict& state);

 private:
  void ensure_device(const at::Device& device);

  GradScalerOptions options_;
  at::Tensor scale_;           // [] float
  at::Tensor growth_tracker_;  // [] int32: clean steps since the last change
};

}  // namespace slipstream
