// libFuzzer target: arbitrary bytes as a WebDataset shard. Scanning lists only members that lie
// inside the file (or reports why it stopped); reading each listed member stays in bounds.
#include "fuzz_input_file.h"
#include "slipstream/core/error.h"
#include "slipstream/data/formats/file_bytes.h"
#include "slipstream/data/formats/tar_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const FuzzInputFile file(data, size);
  if (!file.ok()) return 0;
  const slipstream::TarIndex index = slipstream::scan_tar(file.path());
  for (const auto& member : index.members) {
    if (member.offset + member.size > size) __builtin_trap();  // a member past the end was listed
    (void)slipstream::read_file_range(file.path(), member.offset, member.size);
  }
  return 0;
}
