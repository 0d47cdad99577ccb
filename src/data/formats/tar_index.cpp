#include "slipstream/data/formats/tar_index.h"

#include <cstring>

#include "slipstream/core/error.h"
#include "slipstream/data/formats/file_bytes.h"

namespace slipstream {
namespace {

constexpr uint64_t kBlock = 512;

// A tar numeric field: octal digits (space or NUL terminated), or base-256 when the high bit is set.
bool parse_number(const char* field, size_t width, uint64_t& value) {
  value = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(field);
  if (bytes[0] & 0x80) {
    if (bytes[0] != 0x80) return false;  // negative or too large
    for (size_t i = 1; i < width; ++i) {
      if (value >> 56) return false;
      value = (value << 8) | bytes[i];
    }
    return true;
  }
  size_t i = 0;
  while (i < width && field[i] == ' ') ++i;
  bool digits = false;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (value >> 60) return false;
    value = value * 8 + static_cast<uint64_t>(field[i] - '0');
    digits = true;
  }
  return digits || i == width || field[i] == '\0' || field[i] == ' ';
}

bool checksum_ok(const unsigned char* header) {
  uint64_t stored = 0;
  if (!parse_number(reinterpret_cast<const char*>(header) + 148, 8, stored)) return false;
  uint64_t sum = 0;
  for (uint64_t i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : header[i];
  return sum == stored;
}

std::string field_string(const unsigned char* header, size_t offset, size_t width) {
  const char* text = reinterpret_cast<const char*>(header) + offset;
  return std::string(text, strnlen(text, width));
}

// The "path" record of a pax extended header ("<length> path=<value>\n" records), or "".
std::string pax_path(const std::string& records) {
  size_t at = 0;
  while (at < records.size()) {
    size_t space = records.find(' ', at);
    if (space == std::string::npos) break;
    uint64_t length = 0;
    for (size_t i = at; i < space; ++i) {
      if (records[i] < '0' || records[i] > '9' || length > records.size()) return "";
      length = length * 10 + static_cast<uint64_t>(records[i] - '0');
    }
    if (length == 0 || at + length > records.size()) break;
    const std::string record = records.substr(space + 1, at + length - space - 1);
    if (record.rfind("path=", 0) == 0) {
      std::string value = record.substr(5);
      if (!value.empty() && value.back() == '\n') value.pop_back();
      return value;
    }
    at += length;
  }
  return "";
}

}  // namespace

TarIndex scan_tar(const std::string& path) {
  const PositionalFile file(path);
  const uint64_t archive_size = file.size();
  TarIndex index;
  std::string long_name;  // from a GNU 'L' entry or a pax 'x' header, for the next member
  unsigned char header[kBlock];
  uint64_t offset = 0;
  while (true) {
    if (offset + kBlock > archive_size) {
      if (offset < archive_size) index.problem = "archive ends inside a header (truncated)";
      if (archive_size == 0) index.problem = "empty file";
      break;
    }
    if (!file.read(offset, header, kBlock)) {
      index.problem = "read error at offset " + std::to_string(offset);
      break;
    }
    bool zero = true;
    for (unsigned char byte : header) zero = zero && byte == 0;
    if (zero) break;  // end-of-archive marker
    if (!checksum_ok(header)) {
      index.problem = "corrupt header at offset " + std::to_string(offset) + " (checksum mismatch)";
      break;
    }
    uint64_t size = 0;
    if (!parse_number(reinterpret_cast<const char*>(header) + 124, 12, size)) {
      index.problem = "corrupt size field at offset " + std::to_string(offset);
      break;
    }
    const uint64_t data = offset + kBlock;
    if (size > archive_size - data) {
      index.problem = "member at offset " + std::to_string(offset) + " extends past the end (truncated)";
      break;
    }
    const char type = static_cast<char>(header[156]);
    if (type == 'L' || type == 'x') {
      std::string payload(size, '\0');
      if (size > (1u << 20) || !file.read(data, payload.data(), size)) {
        index.problem = "unreadable extended header at offset " + std::to_string(offset);
        break;
      }
      long_name = type == 'L' ? std::string(payload.c_str()) : pax_path(payload);
    } else {
      if (type == '0' || type == '\0' || type == '7') {
        std::string name = long_name;
        if (name.empty()) {
          name = field_string(header, 0, 100);
          const std::string prefix = std::memcmp(header + 257, "ustar", 5) == 0 ? field_string(header, 345, 155) : "";
          if (!prefix.empty()) name = prefix + "/" + name;
        }
        index.members.push_back({name, data, size});
      }
      long_name.clear();
    }
    offset = data + (size + kBlock - 1) / kBlock * kBlock;
  }
  return index;
}

}  // namespace slipstream
