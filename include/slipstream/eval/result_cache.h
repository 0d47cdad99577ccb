// Evaluation results kept on disk between runs (class embeddings, cached image features), so a
// repeated run or a sweep over hyper-parameters skips the towers. An entry is a safetensors file
// named by its label and a hash of the weights file (canonical path, size, modification time) and
// of every input that determines it; a changed checkpoint or input is a different entry.
#pragma once
#include <ATen/core/Tensor.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace slipstream {

// <cache_dir>/<label>_<hash>.safetensors.
std::string result_cache_file(const std::string& cache_dir, const std::string& weights_path, const std::string& label,
                              const std::vector<std::string>& inputs);

// The entry's tensors when it exists, is readable and holds every name of `required`; else nullopt
// (an unreadable entry is recomputed and rewritten, never an error).
std::optional<std::map<std::string, at::Tensor>> read_result_cache(const std::string& file,
                                                                   const std::vector<std::string>& required);

// Writes the entry through a temporary file and a rename, so concurrent runs of a sweep never read
// a half-written one. Creates the folder.
void write_result_cache(const std::string& file, const std::map<std::string, at::Tensor>& tensors,
                        const std::map<std::string, std::string>& metadata = {});

}  // namespace slipstream
