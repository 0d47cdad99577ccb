#include "slipstream/train/checkpoint.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/statvfs.h>
#include <torch/nn/module.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <vector>

#include "slipstream/core/atomic_file.h"
#include "slipstream/core/error.h"
#include "slipstream/core/safetensors.h"
#include "slipstream/core/text_format.h"
#include "slipstream/train/fault_plan.h"

namespace slipstream {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "slipstream-training-state-1";
constexpr const char* kWeightsFile = "model.safetensors";
constexpr const char* kStateFile = "training_state.safetensors";
constexpr const char* kChecksumsFile = "checksums.json";
constexpr const char* kChecksumsFormat = "slipstream-checksums-1";

// A file's size and CRC-32 (zlib's), read back from the disk.
struct FileDigest {
  int64_t bytes = -1;
  uint32_t crc32 = 0;
};

FileDigest digest_of(const fs::path& file) {
  FileDigest digest;
  std::ifstream in(file, std::ios::binary);
  if (!in) return digest;
  std::vector<char> buffer(1 << 20);
  uLong crc = ::crc32(0L, Z_NULL, 0);
  int64_t bytes = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(buffer.data()), static_cast<uInt>(got));
    bytes += got;
  }
  if (in.bad()) return digest;
  digest.bytes = bytes;
  digest.crc32 = static_cast<uint32_t>(crc);
  return digest;
}

std::string hex32(uint32_t value) { return format_text("%08x", value); }

// The bytes the two files of a checkpoint will take: every tensor's data plus headers' room.
int64_t checkpoint_bytes(const torch::nn::Module& model, const TrainingState& state) {
  int64_t bytes = 1 << 20;
  const auto add = [&](const StateDict& tensors) {
    for (const auto& [name, tensor] : tensors) bytes += tensor.numel() * tensor.element_size() + 256;
  };
  add(state_dict(model));
  for (const StateDict* part : {&state.optimizer, &state.scaler, &state.loss, &state.rng}) add(*part);
  return bytes + static_cast<int64_t>(state.config_json.size() + state.model_config_json.size() + state.meters_json.size() +
                                      state.data_positions_json.size());
}

// Bytes free for an unprivileged writer on the file system of `folder` (-1 when unknown).
int64_t free_bytes(const fs::path& folder) {
  struct statvfs info {};
  if (::statvfs(folder.c_str(), &info) != 0) return -1;
  return static_cast<int64_t>(info.f_bavail) * static_cast<int64_t>(info.f_frsize);
}

std::string mebibytes(int64_t bytes) { return format_text("%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0)); }

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
  const auto keeps = [&] {  // read only when a save fails: verifying reads the whole checkpoint
    return "; the newest valid checkpoint is still " + latest_valid_checkpoint(output_dir).value_or(std::string("none"));
  };

  // Room first: a checkpoint that cannot fit is refused before anything is written.
  const int64_t needed = checkpoint_bytes(model, state), available = free_bytes(checkpoints);
  if (available >= 0 && available < needed) {
    throw TrainingError("checkpoint " + (checkpoints / name).string() + " not saved: it needs about " + mebibytes(needed) +
                        " and " + mebibytes(available) + " are free" + keeps());
  }
  try {
    fs::create_directories(temporary);
    const std::map<std::string, std::string> metadata = {{"format", kFormat},
                                                         {"epoch", std::to_string(state.epoch)},
                                                         {"batch", std::to_string(state.batch)}};
    std::map<std::string, std::string> weights_metadata = metadata;
    if (!state.model_config_json.empty()) weights_metadata["model_config"] = state.model_config_json;
    weights_metadata.insert(state.weights_metadata.begin(), state.weights_metadata.end());
    save_safetensors((temporary / kWeightsFile).string(), state_dict(model), weights_metadata);
    FaultPlan::current().during_checkpoint_write(temporary.string());  // the fault drill's, if any
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
    if (!state.data_positions_json.empty()) state_metadata["data_positions"] = state.data_positions_json;
    save_safetensors((temporary / kStateFile).string(), tensors, state_metadata);
    // The checksums of what is on disk, read back: resume checks them (verify_checkpoint).
    nlohmann::ordered_json files = nlohmann::ordered_json::object();
    for (const char* file : {kWeightsFile, kStateFile}) {
      const FileDigest digest = digest_of(temporary / file);
      if (digest.bytes < 0) throw FileFormatError((temporary / file).string(), "cannot be read back after writing");
      files[file] = {{"bytes", digest.bytes}, {"crc32", hex32(digest.crc32)}};
    }
    write_file_atomically((temporary / kChecksumsFile).string(),
                          nlohmann::ordered_json{{"format", kChecksumsFormat}, {"files", files}}.dump(2) + "\n");
    fsync_folder(temporary);
  } catch (const std::exception& e) {  // ENOSPC, EIO, ...: nothing of this checkpoint stays
    fs::remove_all(temporary, ignored);
    throw TrainingError("checkpoint " + (checkpoints / name).string() + " not saved: " + e.what() + keeps());
  }

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
  // The new checkpoint was read back and checksummed above, so the newest valid one is always kept.
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

std::string verify_checkpoint(const std::string& folder) {
  const fs::path root(folder);
  for (const char* file : {kWeightsFile, kStateFile}) {
    if (!fs::is_regular_file(root / file)) return std::string(file) + " is missing";
  }
  const fs::path manifest = root / kChecksumsFile;
  if (!fs::exists(manifest)) return "";  // written before checkpoints carried checksums
  std::ifstream in(manifest);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("format", "") != kChecksumsFormat || !j.contains("files") || !j["files"].is_object()) {
    return std::string(kChecksumsFile) + " is not a " + kChecksumsFormat + " file";
  }
  for (const auto& [file, expected] : j["files"].items()) {
    const FileDigest digest = digest_of(root / file);
    if (digest.bytes < 0) return file + " is missing or unreadable";
    const int64_t bytes = expected.value("bytes", int64_t{-1});
    if (digest.bytes != bytes) {
      return file + " has " + std::to_string(digest.bytes) + " bytes, " + std::to_string(bytes) + " were written";
    }
    if (hex32(digest.crc32) != expected.value("crc32", "")) {
      return file + " has CRC-32 " + hex32(digest.crc32) + ", " + expected.value("crc32", "") + " was written";
    }
  }
  return "";
}

std::optional<std::string> latest_valid_checkpoint(const std::string& output_dir,
                                                   const std::function<void(const std::string&)>& skipped) {
  std::vector<fs::path> candidates;
  if (const std::optional<std::string> last = latest_checkpoint(output_dir)) candidates.push_back(*last);
  std::vector<fs::path> folders;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(fs::path(output_dir) / "checkpoints", error)) {
    const std::string entry_name = entry.path().filename().string();
    if (entry.is_directory() && entry_name.rfind("epoch_", 0) == 0 && entry.path().extension().empty()) {
      folders.push_back(entry.path().lexically_normal());
    }
  }
  std::sort(folders.rbegin(), folders.rend());  // names sort in training order: newest first
  for (const fs::path& folder : folders) {
    if (candidates.empty() || folder != candidates.front()) candidates.push_back(folder);
  }
  for (const fs::path& folder : candidates) {
    const std::string problem = verify_checkpoint(folder.string());
    if (problem.empty()) return folder.string();
    if (skipped) skipped("=> checkpoint " + folder.string() + " fails its check (" + problem + "); skipped for the one before");
  }
  return std::nullopt;
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
  if (const auto positions = state_file.metadata.find("data_positions"); positions != state_file.metadata.end()) {
    state.data_positions_json = positions->second;
  }
  state.optimizer = with_prefix(state_file.tensors, "optimizer/");
  state.scaler = with_prefix(state_file.tensors, "scaler/");
  state.loss = with_prefix(state_file.tensors, "loss/");
  state.rng = with_prefix(state_file.tensors, "rng/");
  load_weights(model, weights.string(), /*strict=*/true);
  return state;
}

}  // namespace slipstream
