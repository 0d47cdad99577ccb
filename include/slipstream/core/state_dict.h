// A module's weights as a flat name -> tensor map (parameters and buffers, PyTorch's names),
// and loading such a map back with a report of what did not fit.
#pragma once
#include <torch/nn/module.h>

#include <map>
#include <string>
#include <vector>

namespace slipstream {

using StateDict = std::map<std::string, at::Tensor>;

// Parameters and buffers by their dotted names ("visual.blocks.0.attn.qkv.weight").
StateDict state_dict(const torch::nn::Module& module);

struct LoadReport {
  std::vector<std::string> missing;     // in the model, absent from the weights
  std::vector<std::string> unexpected;  // in the weights, absent from the model
  std::vector<std::string> mismatched;  // present in both with different shapes: "name: [a, b] vs [c, d]"
  bool clean() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string summary() const;  // one line: counts and the first few names of each kind
};

// Copies every tensor whose name and shape match into the module (converting dtype).
// strict: any missing, unexpected or mis-shaped tensor throws StateDictError before anything
// is copied, naming them; otherwise the matching tensors load and the report says what did not.
LoadReport load_state_dict(torch::nn::Module& module, const StateDict& weights, bool strict = true);

// Strips `prefix` from every name that starts with it (e.g. "module." of a DDP checkpoint);
// names without the prefix are kept as they are.
StateDict strip_prefix(const StateDict& weights, const std::string& prefix);

// Writes the module's state dict as safetensors (atomically), and reads one back.
void save_weights(const torch::nn::Module& module, const std::string& path,
                  const std::map<std::string, std::string>& metadata = {});
LoadReport load_weights(torch::nn::Module& module, const std::string& path, bool strict = true);

}  // namespace slipstream
