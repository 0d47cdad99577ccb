#include "slipstream/core/state_dict.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <sstream>

#include "slipstream/core/error.h"
#include "slipstream/core/safetensors.h"

namespace slipstream {
namespace {

std::string shape_text(at::IntArrayRef sizes) {
  std::ostringstream out;
  out << sizes;
  return out.str();
}

std::string first_names(const std::vector<std::string>& names, size_t limit = 5) {
  std::string text;
  for (size_t i = 0; i < names.size() && i < limit; ++i) text += (i ? ", " : "") + names[i];
  if (names.size() > limit) text += ", ... (" + std::to_string(names.size() - limit) + " more)";
  return text;
}

}  // namespace

StateDict state_dict(const torch::nn::Module& module) {
  StateDict result;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) result[item.key()] = item.value();
  for (const auto& item : module.named_buffers(/*recurse=*/true)) result[item.key()] = item.value();
  return result;
}

std::string LoadReport::summary() const {
  if (clean()) return "all tensors loaded";
  std::string text;
  auto add = [&](const char* label, const std::vector<std::string>& names) {
    if (names.empty()) return;
    if (!text.empty()) text += "; ";
    text += std::to_string(names.size()) + " " + label + " (" + first_names(names) + ")";
  };
  add("missing", missing);
  add("unexpected", unexpected);
  add("mis-shaped", mismatched);
  return text;
}

LoadReport load_state_dict(torch::nn::Module& module, const StateDict& weights, bool strict) {
  StateDict targets = state_dict(module);
  LoadReport report;
  for (const auto& [name, target] : targets) {
    auto found = weights.find(name);
    if (found == weights.end()) {
      report.missing.push_back(name);
    } else if (found->second.sizes() != target.sizes()) {
      report.mismatched.push_back(name + ": " + shape_text(found->second.sizes()) + " in the weights vs " +
                                  shape_text(target.sizes()) + " in the model");
    }
  }
  for (const auto& [name, tensor] : weights) {
    if (!targets.count(name)) report.unexpected.push_back(name);
  }
  if (strict && !report.clean()) throw StateDictError("weights do not fit the model: " + report.summary());

  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) {
    auto found = weights.find(name);
    if (found == weights.end() || found->second.sizes() != target.sizes()) continue;
    target.copy_(found->second);
  }
  return report;
}

StateDict strip_prefix(const StateDict& weights, const std::string& prefix) {
  StateDict result;
  for (const auto& [name, tensor] : weights) {
    const bool has_prefix = name.compare(0, prefix.size(), prefix) == 0;
    result[has_prefix ? name.substr(prefix.size()) : name] = tensor;
  }
  return result;
}

void save_weights(const torch::nn::Module& module, const std::string& path,
                  const std::map<std::string, std::string>& metadata) {
  save_safetensors(path, state_dict(module), metadata);
}

LoadReport load_weights(torch::nn::Module& module, const std::string& path, bool strict) {
  try {
    return load_state_dict(module, load_safetensors(path).tensors, strict);
  } catch (const StateDictError& e) {
    throw StateDictError(path + ": " + e.what());
  }
}

}  // namespace slipstream
