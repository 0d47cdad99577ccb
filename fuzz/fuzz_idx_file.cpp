// libFuzzer target: arbitrary bytes (plain or gzip) as an MNIST idx file: parsed with a length
// matching its dimensions, or FileFormatError.
#include "fuzz_input_file.h"
#include "slipstream/core/error.h"
#include "slipstream/data/formats/idx_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const FuzzInputFile file(data, size);
  if (!file.ok()) return 0;
  try {
    const slipstream::IdxArray array = slipstream::read_idx_ubyte(file.path());
    size_t count = 1;
    for (int64_t dimension : array.shape) count *= static_cast<size_t>(dimension);
    if (count != array.data.size()) __builtin_trap();
  } catch (const slipstream::FileFormatError&) {
  }
  return 0;
}
