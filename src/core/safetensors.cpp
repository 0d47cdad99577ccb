#include "slipstream/core/safetensors.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

#include "slipstream/core/atomic_file.h"
#include "slipstream/core/error.h"

namespace slipstream {
namespace {

// Headers larger than this are refused (the reference implementation uses 100 MB).
constexpr uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;

struct DtypeEntry {
  const char* name;
  at::ScalarType type;
};
constexpr DtypeEntry kDtypes[] = {
    {"F64", at::kDouble}, {"F32", at::kFloat}, {"F16", at::kHalf},  {"BF16", at::kBFloat16},
    {"I64", at::kLong},   {"I32", at::kInt},   {"I16", at::kShort}, {"I8", at::kChar},
    {"U8", at::kByte},    {"BOOL", at::kBool},
};

at::ScalarType dtype_from_name(const std::string& path, const std::string& tensor, const std::string& name) {
  for (const auto& entry : kDtypes) {
    if (name == entry.name) return entry.type;
  }
  throw FileFormatError(path, "tensor '" + tensor + "' has unsupported dtype '" + name + "'");
}

// A read-only view of a file, memory-mapped privately (writes go to copy-on-write pages).
struct MappedFile {
  void* data = nullptr;
  size_t size = 0;
  ~MappedFile() {
    if (data != nullptr && data != MAP_FAILED) munmap(data, size);
  }
};

std::shared_ptr<MappedFile> map_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw FileFormatError(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat info {};
  if (fstat(fd, &info) != 0) {
    ::close(fd);
    throw FileFormatError(path, std::string("cannot stat: ") + std::strerror(errno));
  }
  auto mapped = std::make_shared<MappedFile>();
  mapped->size = static_cast<size_t>(info.st_size);
  if (mapped->size > 0) {
    mapped->data = mmap(nullptr, mapped->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (mapped->data == MAP_FAILED) {
      ::close(fd);
      mapped->data = nullptr;
      throw FileFormatError(path, std::string("cannot memory-map: ") + std::strerror(errno));
    }
  }
  ::close(fd);
  return mapped;
}

struct HeaderEntry {
  std::string name;
  at::ScalarType type;
  std::vector<int64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

struct ParsedHeader {
  uint64_t data_start = 0;  // byte offset of the data section in the file
  std::vector<HeaderEntry> entries;
  std::map<std::string, std::string> metadata;
};

ParsedHeader parse_header(const std::string& path, const char* bytes, uint64_t file_size) {
  if (file_size < 8) {
    throw FileFormatError(path, "not a safetensors file: " + std::to_string(file_size) +
                                    " bytes, expected at least an 8-byte header length");
  }
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes, 8);  // little-endian on every platform slipstream targets
  if (header_size > kMaxHeaderBytes) {
    throw FileFormatError(path, "header length " + std::to_string(header_size) + " exceeds the 100 MB limit");
  }
  if (header_size > file_size - 8) {
    throw FileFormatError(path, "truncated: header of " + std::to_string(header_size) + " bytes but file has only " +
                                    std::to_string(file_size - 8) + " after the length");
  }
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes + 8, bytes + 8 + header_size);
  } catch (const nlohmann::json::exception& e) {
    throw FileFormatError(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) throw FileFormatError(path, "header is not a JSON object");

  ParsedHeader parsed;
  parsed.data_start = 8 + header_size;
  const uint64_t data_size = file_size - parsed.data_start;
  for (const auto& item : header.items()) {
    const std::string& name = item.key();
    const nlohmann::json& value = item.value();
    if (name == "__metadata__") {
      if (!value.is_object()) throw FileFormatError(path, "__metadata__ is not an object");
      for (const auto& [key, text] : value.items()) {
        if (!text.is_string()) throw FileFormatError(path, "__metadata__ value of '" + key + "' is not a string");
        parsed.metadata[key] = text.get<std::string>();
      }
      continue;
    }
    auto where = [&](const std::string& problem) { return FileFormatError(path, "tensor '" + name + "': " + problem); };
    if (!value.is_object() || !value.contains("dtype") || !value.contains("shape") || !value.contains("data_offsets")) {
      throw where("expected an object with dtype, shape and data_offsets");
    }
    HeaderEntry entry;
    entry.name = name;
    if (!value["dtype"].is_string()) throw where("dtype is not a string");
    entry.type = dtype_from_name(path, name, value["dtype"].get<std::string>());
    const auto& shape = value["shape"];
    const auto& offsets = value["data_offsets"];
    if (!shape.is_array()) throw where("shape is not an array");
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      throw where("data_offsets is not a pair of non-negative integers");
    }
    uint64_t elements = 1;
    for (const auto& dim : shape) {
      if (!dim.is_number_unsigned()) throw where("shape holds a non-integer or negative size");
      const uint64_t size = dim.get<uint64_t>();
      if (size != 0 && elements > (uint64_t{1} << 62) / size) throw where("shape is too large");
      elements *= size;
      entry.shape.push_back(static_cast<int64_t>(size));
    }
    entry.begin = offsets[0].get<uint64_t>();
    entry.end = offsets[1].get<uint64_t>();
    if (entry.begin > entry.end || entry.end > data_size) {
      throw where("data_offsets [" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) +
                  "] fall outside the " + std::to_string(data_size) + "-byte data section (truncated file?)");
    }
    const uint64_t expected = elements * c10::elementSize(entry.type);
    if (entry.end - entry.begin != expected) {
      throw where("holds " + std::to_string(entry.end - entry.begin) + " bytes but its dtype and shape need " +
                  std::to_string(expected));
    }
    parsed.entries.push_back(std::move(entry));
  }
  return parsed;
}

}  // namespace

std::string safetensors_dtype_name(at::ScalarType type) {
  for (const auto& entry : kDtypes) {
    if (entry.type == type) return entry.name;
  }
  throw Error(std::string("safetensors cannot store dtype ") + c10::toString(type));
}

SafetensorsFile load_safetensors(const std::string& path) {
  auto mapped = map_file(path);
  const char* bytes = static_cast<const char*>(mapped->data);
  ParsedHeader header = parse_header(path, bytes, mapped->size);

  SafetensorsFile file;
  file.metadata = std::move(header.metadata);
  for (const auto& entry : header.entries) {
    char* start = static_cast<char*>(mapped->data) + header.data_start + entry.begin;
    const auto options = at::TensorOptions().dtype(entry.type);
    if (entry.end == entry.begin) {
      file.tensors[entry.name] = at::empty(entry.shape, options);
      continue;
    }
    const bool aligned = reinterpret_cast<uintptr_t>(start) % c10::elementSize(entry.type) == 0;
    at::Tensor view = at::from_blob(start, entry.shape, [mapped](void*) {}, options);
    // Misaligned data (a writer that does not pad its header) is copied rather than viewed.
    file.tensors[entry.name] = aligned ? view : view.clone();
  }
  return file;
}

SafetensorsFile read_safetensors_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileFormatError(path, std::string("cannot open: ") + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const uint64_t file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  std::string prefix(static_cast<size_t>(std::min<uint64_t>(file_size, 8)), '\0');
  in.read(prefix.data(), static_cast<std::streamsize>(prefix.size()));
  uint64_t header_size = 0;
  if (prefix.size() == 8) std::memcpy(&header_size, prefix.data(), 8);
  std::string bytes = prefix;
  if (prefix.size() == 8 && header_size <= kMaxHeaderBytes && header_size <= file_size - 8) {
    bytes.resize(8 + header_size);
    in.read(bytes.data() + 8, static_cast<std::streamsize>(header_size));
  }
  ParsedHeader header = parse_header(path, bytes.data(), file_size);
  SafetensorsFile file;
  file.metadata = std::move(header.metadata);
  for (const auto& entry : header.entries) {
    file.tensors[entry.name] = at::empty(entry.shape, at::TensorOptions().dtype(entry.type).device(at::kMeta));
  }
  return file;
}

void save_safetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> contiguous;
  contiguous.reserve(tensors.size());
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (!tensor.defined()) throw Error("save_safetensors(" + path + "): tensor '" + name + "' is undefined");
    at::Tensor host = tensor.detach().to(at::kCPU).contiguous();
    const uint64_t size = static_cast<uint64_t>(host.numel()) * host.element_size();
    header[name] = {{"dtype", safetensors_dtype_name(host.scalar_type())},
                    {"shape", host.sizes().vec()},
                    {"data_offsets", {offset, offset + size}}};
    offset += size;
    contiguous.push_back(std::move(host));
  }
  std::string header_text = header.dump();
  header_text.append((8 - (8 + header_text.size()) % 8) % 8, ' ');  // align the data section to 8 bytes
  const uint64_t header_size = header_text.size();

  AtomicFileWriter writer(path);
  writer.write(reinterpret_cast<const char*>(&header_size), 8);
  writer.write(header_text.data(), header_text.size());
  for (const auto& host : contiguous) {
    writer.write(static_cast<const char*>(host.data_ptr()), static_cast<size_t>(host.numel()) * host.element_size());
  }
  writer.commit();
}

}  // namespace slipstream
