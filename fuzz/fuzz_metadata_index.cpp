// libFuzzer target: arbitrary bytes as a metadata index. The header is validated at open, and
// every entry either parses inside the file or raises FileFormatError naming it.
#include <string>

#include "slipstream/core/error.h"
#include "slipstream/data/formats/metadata_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const slipstream::MetadataIndex index =
        slipstream::MetadataIndex::from_bytes(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    for (int64_t i = 0; i < index.size(); ++i) {
      try {
        const slipstream::MetadataEntry entry = index.entry(i);
        size_t total = entry.key.size();
        for (auto caption : entry.captions) total += caption.size();
        if (total > size) __builtin_trap();  // views must lie inside the input
      } catch (const slipstream::FileFormatError&) {
      }
    }
  } catch (const slipstream::FileFormatError&) {
  }
  return 0;
}
