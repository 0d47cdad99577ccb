// libFuzzer target: arbitrary bytes (plain or gzip) as CLIP's BPE merges file must build a
// tokenizer or raise FileFormatError.
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "slipstream/core/error.h"
#include "slipstream/data/text/clip_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = memfd_create("fuzz.bpe", 0);
  if (fd < 0) return 0;
  if (write(fd, data, size) == static_cast<ssize_t>(size)) {
    try {
      slipstream::ClipTokenizer tokenizer("/proc/self/fd/" + std::to_string(fd));
      (void)tokenizer.encode("a photo of a cat");
    } catch (const slipstream::FileFormatError&) {
    }
  }
  close(fd);
  return 0;
}
