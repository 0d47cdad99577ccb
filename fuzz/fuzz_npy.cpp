// libFuzzer target: arbitrary bytes as a .npy file (SLIP's filelist arrays): parsed with as many
// elements as its shape says, or FileFormatError.
#include "fuzz_input_file.h"
#include "slipstream/core/error.h"
#include "slipstream/data/formats/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const FuzzInputFile file(data, size);
  if (!file.ok()) return 0;
  try {
    const slipstream::NpyArray array = slipstream::read_npy(file.path());
    const size_t elements = array.integers.size() + array.floats.size() + array.strings.size();
    if (static_cast<int64_t>(elements) != array.size()) __builtin_trap();
  } catch (const slipstream::FileFormatError&) {
  }
  return 0;
}
