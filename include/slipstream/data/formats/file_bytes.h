// Reading bytes of files by position (pread), for the readers that index archives and then fetch
// single members from many threads at once.
#pragma once
#include <cstdint>
#include <string>

namespace slipstream {

// Throws FileFormatError naming the file when it cannot be opened or is shorter than asked.
uint64_t file_size(const std::string& path);
std::string read_file_range(const std::string& path, uint64_t offset, uint64_t size);
std::string read_whole_file(const std::string& path);

// An open file for many positioned reads.
class PositionalFile {
 public:
  explicit PositionalFile(const std::string& path);
  ~PositionalFile();
  PositionalFile(const PositionalFile&) = delete;
  PositionalFile& operator=(const PositionalFile&) = delete;

  uint64_t size() const;
  // Reads exactly `size` bytes at `offset`; false if the file ends first.
  bool read(uint64_t offset, void* out, uint64_t size) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_;
};

}  // namespace slipstream
