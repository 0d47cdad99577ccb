// libFuzzer target: arbitrary bytes as a YFCC15M zip. Opening reads the central directory or
// raises FileFormatError; reading every member returns its bytes or raises FileFormatError.
#include "fuzz_input_file.h"
#include "slipstream/core/error.h"
#include "slipstream/data/formats/zip_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const FuzzInputFile file(data, size);
  if (!file.ok()) return 0;
  try {
    const slipstream::ZipArchive archive(file.path());
    for (const std::string& name : archive.names()) {
      try {
        (void)archive.read(name);
      } catch (const slipstream::FileFormatError&) {
      }
    }
  } catch (const slipstream::FileFormatError&) {
  }
  return 0;
}
