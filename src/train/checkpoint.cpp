#include "slipstream/train/checkpoint.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <fcntl.h>
#include <torch/nn/module.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <vector>

#include "slipstream/core/error.h"
#include "slipstream/core/safetensors.h"

namespace slipstream {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "slipstream-training-state-1";
constexpr const char* kWeightsFile = "model.safetensors";
constexpr const char* kStateFile = "training_state.safetensors";

void fsync_folder(const fs::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::string checkpoint_name(int64_t epoch, int64_t batch) {
  char name[64];
  std::snprintf(name, sizeof(name), "epoch_%04lld_step_%07lld", static_cast<long long>(epoch),
                static_cast<long long>(batch));
  return name;
}

// Points `link` (a symlink in `folder`) at `target` (relative to folder), replacing it atomically.
void point_link(const fs::path& folder, const std::string& link, const std::string& target) {
  const fs::path temporary = folder / (link + ".tmp");
  std::error_code ignored;
  fs::remove(temporary, ignored);
  fs::create_symlink(target, temporary);
  fs::rename(temporary, folder / link);
  fsync_folder(folder);
}

std::optional<fs::path> link_target(const fs::path& folder, const std::string& link) {
  std::error_code error;
  const fs::path target = fs::read_symlink(folder / link, error);
  if (error) return std::nullopt;
  return (folder / target).lexically_normal();
}

void prefix_into(StateDict& out, const std::string& prefix, const StateDict& part) {
  for (const auto& [name, tensor] : part) out[prefix + name] = tensor;
}

StateDict with_prefix(const StateDict& all, const std::string& prefix) {
  StateDict part;
  for (const auto& [name, tensor] : all) {
    if (name.compare(0, prefix.size(), prefix) == 0) part[name.substr(prefix.size())] = tensor;
  }
  return part;
}

}  // namespace

StateDict capture_rng_states() {
  StateDict states;
  {
    at::Generator cpu = at::globalContext().defaultGenerator(at::Device(at::kCPU));
    std::lock_guard<std::mutex> lock(cpu.mutex());
    states["cpu"] = cpu.get_state();
  }
  if (at::globalContext().hasCUDA()) {
    for (int64_t i = 0; i < static_cast<int64_t>(at::detail::getCUDAHooks().deviceCount()); ++i) {
      at::Generator cuda = at::globalContext().defaultGenerator(at::Device(at::kCUDA, static_cast<int8_t>(i)));
      std::lock_guard<std::mutex> lock(cuda.mutex());
      states["cuda:" + std::to_string(i)] = cuda.get_state();
    }
  }
  return states;
}

void restore_rng_states(const StateDict& states) {
  for (const auto& [device, state] : states) {
    if (device != "cpu" && !at::globalContext().hasCUDA()) continue;  // a GPU run resumed on a CPU
    at::Generator generator = at::globalContext().defaultGenerator(at::Device(device));
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(state.to(at::kByte).contiguous());
  }
}

std::string write_checkpoint(const std::string& output_dir, const torch::nn::Module& model, const TrainingState& state,
                             bool is_best, int64_t keep) {
  const fs::path root(output_dir);
  const fs::path checkpoints = root / "checkpoints";
  fs::create_directories(checkpoints);
  const std::string name = checkpoint_name(state.epoch, state.batch);
  const fs::path final_folder = checkpoints / name;
  const fs::path temporary = checkpoints / (name + ".tmp");
  std::error_code ignored;
  fs::remove_all(temporary, ignored);
  fs::create_directories(temporary);

  const std::map<std::string, std::string> metadata = {{"format", kFormat},
                                                       {"epoch", std::to_string(state.epoch)},
                                                       {"batch", std::to_string(state.batch)}};
  std::map<std::string, std::string> weights_metadata = metadata;
  if (!state.model_config_json.empty()) weights_metadata["model_config"] = state.model_config_json;
  save_safetensors((temporary / kWeightsFile).string(), state_dict(model), weights_metadata);
  StateDict tensors;
  prefix_into(tensors, "optimizer/", state.optimizer);
  prefix_into(tensors, "scaler/", state.scaler);
  prefix_into(tensors, "loss/", state.loss);
  prefix_into(tensors, "rng/", state.rng);
  std::map<std::string, std::string> state_metadata = metadata;
  char best[32];
  std::snprintf(best, sizeof(best), "%.17g", state.best_acc1);
  state_metadata["best_acc1"] = best;
  state_metadata["config"] = state.config_json;
  state_metadata["meters"] = state.meters_json;
  save_safetensors((temporary / kStateFile).string(), tensors, state_metadata);
  fsync_folder(temporary);

  // A folder of the same name (the same position saved again) is replaced.
  const fs::path previous = checkpoints / (name + ".old");
  fs::remove_all(previous, ignored);
  if (fs::exists(final_folder)) fs::rename(final_folder, previous);
  fs::rename(temporary, final_folder);
  fsync_folder(checkpoints);
  const std::string target = (fs::path("checkpoints") / name).string();
  point_link(root, "checkpoint_last", target);
  if (is_best) point_link(root, "checkpoint_best", target);
  fs::remove_all(previous, ignored);

  // Keep the newest `keep` (names sort in training order) and the best.
  std::vector<fs::path> folders;
  for (const auto& entry : fs::directory_iterator(checkpoints)) {
    const std::string entry_name = entry.path().filename().string();
    if (entry.is_directory() && entry_name.rfind("epoch_", 0) == 0 && entry.path().extension().empty()) {
      folders.push_back(entry.path());
    }
  }
  std::sort(folders.begin(), folders.end());
  const std::optional<fs::path> best_folder = link_target(root, "checkpoint_best");
  for (size_t i = 0; i + static_cast<size_t>(std::max<int64_t>(keep, 1)) < folders.size(); ++i) {
    if (best_folder && fs::equivalent(*best_folder, folders[i], ignored)) continue;
    fs::remove_all(folders[i], ignored);
  }
  return final_folder.string();
}

std::optional<std::string> latest_checkpoint(const std::string& output_dir) {
  const std::optional<fs::path> target = link_target(output_dir, "checkpoint_last");
  if (!target || !fs::is_directory(*target)) return std::nullopt;
  return target->string();
}

TrainingState read_checkpoint(const std::string& folder, torch::nn::Module& model) {
  const fs::path root(folder);
  const fs::path weights = root / kWeightsFile, state_path = root / kStateFile;
  for (const fs::path& file : {weights, state_path}) {
    if (!fs::is_regular_file(file)) throw FileFormatError(file.string(), "missing: expected a slipstream checkpoint folder");
  }
  const SafetensorsFile state_file = load_safetensors(state_path.string());
  const auto meta = [&](const std::string& key) {
    const auto found = state_file.metadata.find(key);
    if (found == state_file.metadata.end()) {
      throw FileFormatError(state_path.string(), "metadata lacks '" + key + "' (expected " + kFormat + ")");
    }
    return found->second;
  };
  if (meta("format") != kFormat) {
    throw FileFormatError(state_path.string(), "format '" + meta("format") + "', expected " + kFormat);
  }
  TrainingState state;
  try {
    state.epoch = std::stoll(meta("epoch"));
    state.batch = std::stoll(meta("batch"));
    state.best_acc1 = std::stod(meta("best_acc1"));
  } catch (const std::logic_error&) {
    throw FileFormatError(state_path.string(), "epoch, batch or best_acc1 is not a number");
  }
  state.config_json = meta("config");
  state.meters_json = meta("meters");
  state.optimizer = with_prefix(state_file.tensors, "optimizer/");
  state.scaler = with_prefix(state_file.tensors, "scaler/");
  state.loss = with_prefix(state_file.tensors, "loss/");
  state.rng = with_prefix(state_file.tensors, "rng/");
  load_weights(model, weights.string(), /*strict=*/true);
  return state;
}

}  // namespace slipstream
