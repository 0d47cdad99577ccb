// Reading and writing the safetensors format (https://huggingface.co/docs/safetensors):
// an 8-byte little-endian header length, a JSON header, then the raw tensor bytes.
#pragma once
#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <vector>

namespace slipstream {

// Tensors by name, in name order, plus the file's free-form string metadata.
struct SafetensorsFile {
  std::map<std::string, at::Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Reads a whole file. Tensors are views into a private (copy-on-write) memory map of the file,
// so opening is cheap and writing into a tensor never changes the file; the mapping lives as
// long as any tensor does. A truncated or malformed file throws FileFormatError naming the path
// and the problem. Supported dtypes: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL.
SafetensorsFile load_safetensors(const std::string& path);

// Parses only the header: names, dtypes and shapes (as tensors on the meta device).
SafetensorsFile read_safetensors_header(const std::string& path);

// Writes tensors (any device, any strides) atomically: a temporary file in the same folder,
// fsync, then rename, so a crash never leaves a half-written file under `path`.
void save_safetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// The safetensors dtype string for a scalar type ("F32", "BF16", ...); throws for unsupported ones.
std::string safetensors_dtype_name(at::ScalarType type);

}  // namespace slipstream
