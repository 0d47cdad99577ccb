// Writing tar archives (POSIX ustar) member by member, as Python's tarfile writes a WebDataset
// shard: a 512-byte header per regular file, its data padded to 512 bytes, two zero blocks at the
// end. The archive is written to "<path>.tmp" and renamed into place by finish().
#pragma once
#include <cstdio>
#include <string>

namespace slipstream {

class TarWriter {
 public:
  explicit TarWriter(std::string path);  // FileFormatError when the file cannot be created
  ~TarWriter();                          // without finish(): the temporary file is removed
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  // A regular file; names up to 100 bytes (ustar without the prefix field), ConfigError otherwise.
  void add(const std::string& name, const std::string& data);
  void finish();

 private:
  void write(const void* data, size_t size);
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace slipstream
