#include "local_file_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace slipstream {

LocalFileStream::LocalFileStream(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw ShardError(path, std::string("cannot open: ") + std::strerror(errno));
#ifdef POSIX_FADV_SEQUENTIAL
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
}

LocalFileStream::~LocalFileStream() {
  if (fd_ >= 0) ::close(fd_);
}

size_t LocalFileStream::read(char* buffer, size_t size) {
  while (true) {
    const ssize_t got = ::read(fd_, buffer, size);
    if (got >= 0) return static_cast<size_t>(got);
    if (errno != EINTR) throw ShardError(path_, std::string("read error: ") + std::strerror(errno));
  }
}

}  // namespace slipstream
