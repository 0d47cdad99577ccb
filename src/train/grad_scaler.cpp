#include "slipstream/train/grad_scaler.h"

#include <ATen/ATen.h>

#include "slipstream/core/error.h"
#include "slipstream/train/adamw.h"

namespace slipstream {

GradScaler::GradScaler(GradScalerOptions options) : options_(options) {
  if (!(options_.init_scale > 0.0) || !(options_.growth_factor > 1.0) || !(options_.backoff_factor > 0.0) ||
      !(options_.backoff_factor < 1.0) || options_.growth_interval < 1) {
    throw ConfigError("GradScaler: expected init_scale > 0, growth_factor > 1, 0 < backoff_factor < 1 and "
                      "growth_interval >= 1");
  }
  scale_ = at::full({}, options_.init_scale, at::kFloat);
  growth_tracker_ = at::zeros({}, at::kInt);
}

void GradScaler::ensure_device(const at::Device& device) {
  if (scale_.device() != device) {
    scale_ = scale_.to(device);
    growth_tracker_ = growth_tracker_.to(device);
  }
}

at::Tensor GradScaler::scale(const at::Tensor& loss) {
  if (!options_.enabled) return loss;
  ensure_device(loss.device());
  return loss * scale_.to(loss.scalar_type());
}

bool GradScaler::step(AdamW& optimizer) {
  if (!options_.enabled) {
    optimizer.step();
    return true;
  }
  // GradScaler._unscale_grads_ with inv_scale 1 (the fused optimizer unscales): only the inf check.
  at::Tensor found_inf = at::zeros({}, scale_.options());
  {
    at::NoGradGuard no_grad;
    std::map<std::string, std::vector<at::Tensor>> grads_by_device;
    for (const ParameterGroup& group : optimizer.groups()) {
      for (const at::Tensor& parameter : group.parameters) {
        if (parameter.grad().defined()) grads_by_device[parameter.grad().device().str()].push_back(parameter.grad());
      }
    }
    for (auto& [device, grads] : grads_by_device) {
      at::Tensor found_here = at::zeros({}, grads.front().options().dtype(at::kFloat));
      const at::Tensor one = at::ones({}, found_here.options());
      at::_amp_foreach_non_finite_check_and_unscale_(grads, found_here, one);
      found_inf.add_(found_here.to(found_inf.device()));
    }
  }
  found_inf.clamp_max_(1.0);
  optimizer.step(scale_, found_inf);
  const bool skipped = found_inf.item<float>() != 0.0f;
  at::_amp_update_scale_(scale_, growth_tracker_, found_inf, options_.growth_factor, options_.backoff_factor,
                         options_.growth_interval);
  return !skipped;
}

double GradScaler::current_scale() const { return options_.enabled ? scale_.item<double>() : 1.0; }

StateDict GradScaler::state() const {
  return {{"scale", scale_.cpu()}, {"growth_tracker", growth_tracker_.cpu()}};
}

void GradScaler::load_state(const StateDict& state) {
  const auto scale = state.find("scale");
  const auto tracker = state.find("growth_tracker");
  if (scale == state.end() || tracker == state.end() || scale->second.numel() != 1 || tracker->second.numel() != 1) {
    throw StateDictError("loss scaler state: expected one-element tensors 'scale' and 'growth_tracker'");
  }
  scale_ = scale->second.to(scale_.device(), at::kFloat).reshape({}).clone();
  growth_tracker_ = tracker->second.to(growth_tracker_.device(), at::kInt).reshape({}).clone();
}

}  // namespace slipstream
