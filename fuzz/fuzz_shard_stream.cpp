// libFuzzer target: arbitrary bytes as a streamed WebDataset shard. The reader returns samples
// with an image and a caption, or ends, or throws ShardError; it never reads past the bytes given,
// never loops, and never crashes.
#include <algorithm>
#include <cstring>
#include <memory>

#include "slipstream/data/streaming/byte_stream.h"
#include "slipstream/data/streaming/shard_sample_reader.h"

namespace {

// The input in small, uneven reads, as a pipe or a socket delivers it.
class FuzzBytes : public slipstream::ByteStream {
 public:
  FuzzBytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  size_t read(char* buffer, size_t size) override {
    const size_t n = std::min({size, size_ - at_, size_t{1} + at_ % 997});
    std::memcpy(buffer, data_ + at_, n);
    at_ += n;
    return n;
  }

 private:
  const uint8_t* data_;
  size_t size_, at_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  slipstream::ShardSampleReader reader(std::make_unique<FuzzBytes>(data, size), "fuzz.tar");
  slipstream::ShardSample sample;
  size_t total = 0;
  try {
    while (reader.next(sample)) {
      if (sample.image.empty() || sample.caption.empty()) __builtin_trap();  // an incomplete sample returned
      total += sample.image.size() + sample.caption.size();
      if (total > size) __builtin_trap();  // more bytes out than in
    }
  } catch (const slipstream::ShardError&) {
  }
  return 0;
}
