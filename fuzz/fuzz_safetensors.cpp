// libFuzzer target: arbitrary bytes as a safetensors file must load or raise FileFormatError;
// never crash, hang or allocate without bound.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "slipstream/core/error.h"
#include "slipstream/core/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = memfd_create("fuzz.safetensors", 0);
  if (fd < 0) return 0;
  if (write(fd, data, size) != static_cast<ssize_t>(size)) {
    close(fd);
    return 0;
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  try {
    slipstream::SafetensorsFile file = slipstream::load_safetensors(path);
    for (auto& [name, tensor] : file.tensors) {
      if (tensor.numel() > 0) (void)tensor.sum();  // touch every byte the header claims
    }
    (void)slipstream::read_safetensors_header(path);
  } catch (const slipstream::FileFormatError&) {
  }
  close(fd);
  return 0;
}
