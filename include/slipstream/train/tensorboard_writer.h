// TensorBoard event files written natively: TFRecord framing (length, masked CRC-32C of the
// length, the serialized Event protobuf, masked CRC-32C of it) around hand-encoded Event and
// Summary messages, so `tensorboard --logdir` and its Python reader see scalar plots without
// TensorFlow or a protobuf library.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

namespace slipstream {

// CRC-32C (Castagnoli), as TFRecord uses; crc32c("123456789") == 0xE3069283.
uint32_t crc32c(const void* data, size_t size);

class TensorBoardWriter {
 public:
  // Creates `log_dir` and a new events.out.tfevents.<seconds>.<host> file in it.
  explicit TensorBoardWriter(const std::string& log_dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  void add_scalar(const std::string& tag, double value, int64_t step);
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write_event(const std::string& event);

  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace slipstream
