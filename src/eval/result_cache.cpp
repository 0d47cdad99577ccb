#include "slipstream/eval/result_cache.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "slipstream/core/error.h"
#include "slipstream/core/safetensors.h"

namespace slipstream {
namespace {

uint64_t fnv1a(uint64_t hash, const std::string& text) {
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ULL;
  return (hash ^ 0xff) * 1099511628211ULL;  // a separator, so ("ab","c") and ("a","bc") differ
}

}  // namespace

std::string result_cache_file(const std::string& cache_dir, const std::string& weights_path, const std::string& label,
                              const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path weights = fs::weakly_canonical(weights_path, error);
  uint64_t key = 1469598103934665603ULL;
  key = fnv1a(key, weights.string());
  key = fnv1a(key, std::to_string(fs::file_size(weights, error)));
  key = fnv1a(key, std::to_string(fs::last_write_time(weights, error).time_since_epoch().count()));
  for (const std::string& input : inputs) key = fnv1a(key, input);
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), "_%016llx.safetensors", static_cast<unsigned long long>(key));
  return (fs::path(cache_dir) / (label + suffix)).string();
}

std::optional<std::map<std::string, at::Tensor>> read_result_cache(const std::string& file,
                                                                   const std::vector<std::string>& required) {
  if (!std::filesystem::is_regular_file(file)) return std::nullopt;
  try {
    SafetensorsFile cached = load_safetensors(file);
    for (const std::string& name : required) {
      if (!cached.tensors.count(name)) return std::nullopt;
    }
    return std::move(cached.tensors);
  } catch (const Error&) {
    return std::nullopt;
  }
}

void write_result_cache(const std::string& file, const std::map<std::string, at::Tensor>& tensors,
                        const std::map<std::string, std::string>& metadata) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(fs::path(file).parent_path(), error);
  const std::string temporary = file + ".tmp" + std::to_string(::getpid());
  save_safetensors(temporary, tensors, metadata);
  fs::rename(temporary, file, error);
  if (error) {
    fs::remove(temporary, error);
    throw ConfigError(file + ": cannot write the cache entry (" + error.message() + ")");
  }
}

}  // namespace slipstream
