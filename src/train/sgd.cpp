#include "slipstream/train/sgd.h"

#include <ATen/ATen.h>

#include <tuple>

#include "slipstream/core/error.h"

namespace slipstream {

Sgd::Sgd(std::vector<ParameterGroup> groups, SgdOptions options) : groups_(std::move(groups)), options_(options) {
  if (!(options_.momentum >= 0.0) || (options_.nesterov && options_.momentum <= 0.0)) {
    throw ConfigError("SGD: expected momentum >= 0 (and > 0 with Nesterov)");
  }
}

void Sgd::step() {
  at::NoGradGuard no_grad;
  const bool with_momentum = options_.momentum != 0.0;
  for (const ParameterGroup& group : groups_) {
    std::map<std::tuple<std::string, at::ScalarType>, std::vector<size_t>> buckets;
    for (size_t i = 0; i < group.parameters.size(); ++i) {
      const at::Tensor& parameter = group.parameters[i];
      if (parameter.grad().defined()) buckets[{parameter.device().str(), parameter.scalar_type()}].push_back(i);
    }
    for (const auto& [key, members] : buckets) {
      std::vector<at::Tensor> parameters, grads, buffers;
      // torch.optim.sgd._fused_sgd: the first step creates the buffers and tells the kernel so.
      bool first_step = with_momentum;
      for (size_t i : members) {
        parameters.push_back(group.parameters[i]);
        grads.push_back(group.parameters[i].grad());
        if (!with_momentum) continue;
        auto found = momentum_buffers_.find(group.names[i]);
        if (found != momentum_buffers_.end()) first_step = false;
      }
      if (with_momentum) {
        for (size_t i : members) {
          at::Tensor& buffer = momentum_buffers_[group.names[i]];
          if (first_step || !buffer.defined()) buffer = at::empty_like(group.parameters[i].grad());
          buffers.push_back(buffer);
        }
      }
      at::_fused_sgd_(parameters, grads, buffers, group.weight_decay, options_.momentum, options_.lr,
                      /*dampening=*/0.0, options_.nesterov, /*maximize=*/false, first_step);
    }
  }
}

void Sgd::zero_grad() {
  for (ParameterGroup& group : groups_) {
    for (at::Tensor& parameter : group.parameters) parameter.mutable_grad() = at::Tensor();
  }
}

StateDict Sgd::state() const {
  StateDict state;
  for (const auto& [name, buffer] : momentum_buffers_) state["momentum_buffer/" + name] = buffer;
  return state;
}

void Sgd::load_state(const StateDict& state) {
  std::map<std::string, at::Tensor> parameters;
  for (const ParameterGroup& group : groups_) {
    for (size_t i = 0; i < group.names.size(); ++i) parameters[group.names[i]] = group.parameters[i];
  }
  std::map<std::string, at::Tensor> restored;
  for (const auto& [key, value] : state) {
    const std::string prefix = "momentum_buffer/";
    const std::string name = key.compare(0, prefix.size(), prefix) == 0 ? key.substr(prefix.size()) : std::string();
    const auto parameter = parameters.find(name);
    if (parameter == parameters.end()) throw StateDictError("SGD state: entry '" + key + "' matches no optimized parameter");
    if (value.sizes() != parameter->second.sizes()) {
      throw StateDictError("SGD state: entry '" + key + "' has shape " + c10::str(value.sizes()) + ", expected " +
                           c10::str(parameter->second.sizes()));
    }
    restored[name] = value.to(parameter->second.options(), /*non_blocking=*/false, /*copy=*/true);
  }
  momentum_buffers_ = std::move(restored);
}

}  // namespace slipstream
