#include "slipstream/data/formats/tar_header.h"

#include <cstring>

namespace slipstream {
namespace {

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
  for (uint64_t i = 0; i < kTarBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : header[i];
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

TarHeader parse_tar_header(const unsigned char* block) {
  TarHeader header;
  bool zero = true;
  for (uint64_t i = 0; i < kTarBlock && zero; ++i) zero = block[i] == 0;
  if (zero) {
    header.end_marker = true;
    return header;
  }
  if (!checksum_ok(block)) {
    header.problem = "checksum mismatch";
    return header;
  }
  if (!parse_number(reinterpret_cast<const char*>(block) + 124, 12, header.size)) {
    header.problem = "corrupt size field";
    return header;
  }
  header.type = static_cast<char>(block[156]);
  header.name = field_string(block, 0, 100);
  const std::string prefix = std::memcmp(block + 257, "ustar", 5) == 0 ? field_string(block, 345, 155) : "";
  if (!prefix.empty()) header.name = prefix + "/" + header.name;
  return header;
}

std::string tar_long_name(char type, const std::string& payload) {
  return type == 'L' ? std::string(payload.c_str()) : pax_path(payload);
}

}  // namespace slipstream
