// libFuzzer target: arbitrary bytes as CIFAR-100's binary test.bin (and STL-10's labels): records
// are read with their labels and images, or the file is refused with FileFormatError.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "slipstream/core/error.h"
#include "slipstream/data/datasets/labelled_datasets.h"

namespace {

const std::filesystem::path& folder() {
  static const std::filesystem::path path = [] {
    auto root = std::filesystem::temp_directory_path() / ("slipstream_fuzz_cifar_" + std::to_string(getpid()));
    std::filesystem::create_directories(root / "cifar-100-binary");
    return root;
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    std::ofstream out(folder() / "cifar-100-binary" / "test.bin", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    const auto dataset = slipstream::open_cifar100(folder().string(), /*train=*/false);
    if (dataset->size() * 3074 != static_cast<int64_t>(size)) __builtin_trap();
    for (int64_t i = 0; i < dataset->size(); ++i) (void)dataset->get(i);
  } catch (const slipstream::FileFormatError&) {
  }
  return 0;
}
