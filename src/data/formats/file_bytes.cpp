#include "slipstream/data/formats/file_bytes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "slipstream/core/error.h"

namespace slipstream {

PositionalFile::PositionalFile(const std::string& path) : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
  if (fd_ < 0) throw FileFormatError(path, std::string("cannot open: ") + std::strerror(errno));
}

PositionalFile::~PositionalFile() { ::close(fd_); }

uint64_t PositionalFile::size() const {
  struct stat info {};
  if (::fstat(fd_, &info) != 0) throw FileFormatError(path_, "cannot stat");
  return static_cast<uint64_t>(info.st_size);
}

bool PositionalFile::read(uint64_t offset, void* out, uint64_t size) const {
  auto* p = static_cast<char*>(out);
  while (size > 0) {
    const ssize_t got = ::pread(fd_, p, size, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    offset += static_cast<uint64_t>(got);
    size -= static_cast<uint64_t>(got);
  }
  return true;
}

uint64_t file_size(const std::string& path) { return PositionalFile(path).size(); }

std::string read_file_range(const std::string& path, uint64_t offset, uint64_t size) {
  const PositionalFile file(path);
  std::string bytes(size, '\0');
  if (!file.read(offset, bytes.data(), size)) {
    throw FileFormatError(path, "cannot read " + std::to_string(size) + " bytes at offset " + std::to_string(offset) +
                                    " (file shorter than expected)");
  }
  return bytes;
}

std::string read_whole_file(const std::string& path) {
  const PositionalFile file(path);
  std::string bytes(file.size(), '\0');
  if (!file.read(0, bytes.data(), bytes.size())) throw FileFormatError(path, "cannot read the whole file");
  return bytes;
}

}  // namespace slipstream
