#include "slipstream/train/adamw.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <tuple>

#include "slipstream/core/error.h"

namespace slipstream {

std::vector<ParameterGroup> slip_parameter_groups(const torch::nn::Module& model, double weight_decay) {
  ParameterGroup decayed, not_decayed;
  decayed.weight_decay = weight_decay;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    const at::Tensor& parameter = item.value();
    if (!parameter.requires_grad()) continue;
    const bool exempt = parameter.dim() < 2 || name.find("bias") != std::string::npos ||
                        name.find("ln") != std::string::npos || name.find("bn") != std::string::npos;
    ParameterGroup& group = exempt ? not_decayed : decayed;
    group.names.push_back(name);
    group.parameters.push_back(parameter);
  }
  std::vector<ParameterGroup> groups;
  for (ParameterGroup* group : {&decayed, &not_decayed}) {
    if (!group->parameters.empty()) groups.push_back(std::move(*group));
  }
  return groups;
}

AdamW::AdamW(std::vector<ParameterGroup> groups, AdamWOptions options)
    : groups_(std::move(groups)), options_(options) {
  for (const ParameterGroup& group : groups_) {
    if (group.names.size() != group.parameters.size()) {
      throw ConfigError("AdamW: a parameter group has " + std::to_string(group.names.size()) + " names for " +
                        std::to_string(group.parameters.size()) + " parameters");
    }
  }
}

AdamW::Moments& AdamW::moments_of(const std::string& name, const at::Tensor& parameter) {
  auto found = moments_.find(name);
  if (found == moments_.end()) {
    Moments moments{at::zeros_like(parameter, at::MemoryFormat::Preserve),
                    at::zeros_like(parameter, at::MemoryFormat::Preserve),
                    at::zeros({}, parameter.options().dtype(at::kFloat))};
    found = moments_.emplace(name, std::move(moments)).first;
  }
  return found->second;
}

void AdamW::step(const std::optional<at::Tensor>& grad_scale, const std::optional<at::Tensor>& found_inf) {
  at::NoGradGuard no_grad;
  for (const ParameterGroup& group : groups_) {
    // One fused launch per (device, dtype), as torch.optim's _group_tensors_by_device_and_dtype.
    std::map<std::tuple<std::string, at::ScalarType>, std::vector<size_t>> buckets;
    for (size_t i = 0; i < group.parameters.size(); ++i) {
      const at::Tensor& parameter = group.parameters[i];
      if (!parameter.grad().defined()) continue;
      buckets[{parameter.device().str(), parameter.scalar_type()}].push_back(i);
    }
    for (const auto& [key, members] : buckets) {
      std::vector<at::Tensor> parameters, grads, exp_avgs, exp_avg_sqs, steps;
      for (size_t i : members) {
        const at::Tensor& parameter = group.parameters[i];
        Moments& moments = moments_of(group.names[i], parameter);
        parameters.push_back(parameter);
        grads.push_back(parameter.grad());
        exp_avgs.push_back(moments.exp_avg);
        exp_avg_sqs.push_back(moments.exp_avg_sq);
        steps.push_back(moments.step);
      }
      const at::Device device = parameters.front().device();
      std::optional<at::Tensor> scale, inf;
      if (grad_scale) scale = grad_scale->to(device, at::kFloat);
      if (found_inf) inf = found_inf->to(device, at::kFloat);
      // torch.optim.adam._fused_adam: the step counts advance before the kernel and go back
      // where an inf was found.
      at::_foreach_add_(steps, 1);
      at::_fused_adamw_(parameters, grads, exp_avgs, exp_avg_sqs, /*max_exp_avg_sqs=*/{}, steps,
                        options_.lr * group.lr_scale, options_.beta1, options_.beta2, group.weight_decay, options_.eps,
                        /*amsgrad=*/false, /*maximize=*/false, scale, inf);
      if (inf) at::_foreach_sub_(steps, std::vector<at::Tensor>(steps.size(), *inf));
    }
  }
}

void AdamW::zero_grad() {
  for (ParameterGroup& group : groups_) {
    for (at::Tensor& parameter : group.parameters) parameter.mutable_grad() = at::Tensor();
  }
}

StateDict AdamW::state() const {
  StateDict state;
  for (const auto& [name, moments] : moments_) {
    state["exp_avg/" + name] = moments.exp_avg;
    state["exp_avg_sq/" + name] = moments.exp_avg_sq;
    state["step/" + name] = moments.step;
  }
  return state;
}

void AdamW::load_state(const StateDict& state) {
  std::map<std::string, at::Tensor> parameters;
  for (const ParameterGroup& group : groups_) {
    for (size_t i = 0; i < group.names.size(); ++i) parameters[group.names[i]] = group.parameters[i];
  }
  std::map<std::string, Moments> restored;
  for (const auto& [key, value] : state) {
    const size_t slash = key.find('/');
    const std::string kind = key.substr(0, slash == std::string::npos ? 0 : slash);
    const std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
    const auto parameter = parameters.find(name);
    if (parameter == parameters.end() || (kind != "exp_avg" && kind != "exp_avg_sq" && kind != "step")) {
      throw StateDictError("optimizer state: entry '" + key + "' matches no optimized parameter");
    }
    const bool is_step = kind == "step";
    if (is_step ? value.numel() != 1 : value.sizes() != parameter->second.sizes()) {
      throw StateDictError("optimizer state: entry '" + key + "' has shape " + c10::str(value.sizes()) +
                           ", expected " + (is_step ? std::string("[]") : c10::str(parameter->second.sizes())));
    }
    const at::TensorOptions options = parameter->second.options().dtype(is_step ? at::kFloat : parameter->second.scalar_type());
    at::Tensor copy = value.to(options, /*non_blocking=*/false, /*copy=*/true).reshape(is_step ? at::IntArrayRef{} : value.sizes());
    Moments& moments = restored[name];
    (kind == "exp_avg" ? moments.exp_avg : kind == "exp_avg_sq" ? moments.exp_avg_sq : moments.step) = copy;
  }
  for (const auto& [name, moments] : restored) {
    if (!moments.exp_avg.defined() || !moments.exp_avg_sq.defined() || !moments.step.defined()) {
      throw StateDictError("optimizer state: parameter '" + name + "' lacks one of exp_avg, exp_avg_sq, step");
    }
  }
  moments_ = std::move(restored);
}

}  // namespace slipstream
