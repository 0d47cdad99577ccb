#include "slipstream/data/formats/tar_writer.h"

#include <cstring>
#include <filesystem>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

// A ustar numeric field: octal digits, zero padded, NUL terminated.
void put_octal(char* field, size_t width, uint64_t value) {
  std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1), static_cast<unsigned long long>(value));
}

}  // namespace

TarWriter::TarWriter(std::string path) : path_(std::move(path)) {
  file_ = std::fopen((path_ + ".tmp").c_str(), "wb");
  if (!file_) throw FileFormatError(path_, std::string("cannot create (") + std::strerror(errno) + ")");
}

TarWriter::~TarWriter() {
  if (!file_) return;
  std::fclose(file_);
  std::error_code error;
  std::filesystem::remove(path_ + ".tmp", error);
}

void TarWriter::write(const void* data, size_t size) {
  if (size > 0 && std::fwrite(data, 1, size, file_) != size) {
    throw FileFormatError(path_, std::string("write failed (") + std::strerror(errno) + ")");
  }
}

void TarWriter::add(const std::string& name, const std::string& data) {
  if (name.empty() || name.size() > 100) throw ConfigError(path_ + ": member name '" + name + "' must be 1 to 100 bytes");
  char header[512] = {};
  std::memcpy(header, name.data(), name.size());
  put_octal(header + 100, 8, 0644);       // mode
  put_octal(header + 108, 8, 0);          // uid
  put_octal(header + 116, 8, 0);          // gid
  put_octal(header + 124, 12, data.size());
  put_octal(header + 136, 12, 0);         // mtime: fixed, so equal inputs give equal archives
  header[156] = '0';                      // regular file
  std::memcpy(header + 257, "ustar", 6);  // magic "ustar\0", version "00"
  std::memcpy(header + 263, "00", 2);
  std::memset(header + 148, ' ', 8);      // the checksum counts its own field as spaces
  unsigned sum = 0;
  for (unsigned char c : header) sum += c;
  std::snprintf(header + 148, 8, "%06o", sum);
  header[155] = ' ';
  write(header, sizeof(header));
  write(data.data(), data.size());
  static const char zeros[512] = {};
  write(zeros, (512 - data.size() % 512) % 512);
}

void TarWriter::finish() {
  static const char zeros[1024] = {};
  write(zeros, sizeof(zeros));
  if (std::fclose(file_) != 0) {
    file_ = nullptr;
    throw FileFormatError(path_, "close failed");
  }
  file_ = nullptr;
  std::error_code error;
  std::filesystem::rename(path_ + ".tmp", path_, error);
  if (error) throw FileFormatError(path_, "cannot rename into place (" + error.message() + ")");
}

}  // namespace slipstream
