#include "slipstream/data/formats/npy.h"

#include <cstring>

#include "slipstream/core/error.h"
#include "slipstream/data/formats/file_bytes.h"

namespace slipstream {
namespace {

// The value of `key` in the header dict, e.g. "'<i8'", "False", "(3, 4)".
std::string dict_value(const std::string& header, const std::string& key, const std::string& path) {
  const std::string quoted = "'" + key + "'";
  size_t at = header.find(quoted);
  if (at == std::string::npos) throw FileFormatError(path, "npy header has no " + quoted);
  at = header.find(':', at + quoted.size());
  if (at == std::string::npos) throw FileFormatError(path, "npy header is malformed");
  ++at;
  while (at < header.size() && header[at] == ' ') ++at;
  const char open = at < header.size() ? header[at] : '\0';
  const size_t end = open == '(' ? header.find(')', at) : open == '\'' ? header.find('\'', at + 1) : header.find(',', at);
  if (end == std::string::npos) throw FileFormatError(path, "npy header is malformed");
  return header.substr(at, end - at + (open == '(' || open == '\'' ? 1 : 0));
}

void append_utf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

}  // namespace

int64_t NpyArray::size() const {
  int64_t count = 1;
  for (int64_t dimension : shape) count *= dimension;
  return count;
}

NpyArray read_npy(const std::string& path) {
  const std::string bytes = read_whole_file(path);
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) {
    throw FileFormatError(path, "not a .npy file (bad magic)");
  }
  const int major = static_cast<uint8_t>(bytes[6]);
  size_t header_length = 0, header_start = 0;
  if (major == 1) {
    header_length = static_cast<uint8_t>(bytes[8]) | static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8;
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw FileFormatError(path, "truncated .npy header");
    for (int i = 3; i >= 0; --i) header_length = header_length << 8 | static_cast<uint8_t>(bytes[8 + i]);
    header_start = 12;
  } else {
    throw FileFormatError(path, "unsupported .npy version " + std::to_string(major));
  }
  if (header_length > bytes.size() - header_start) throw FileFormatError(path, "truncated .npy header");
  const std::string header = bytes.substr(header_start, header_length);
  NpyArray array;
  std::string descr = dict_value(header, "descr", path);
  if (descr.size() < 3 || descr.front() != '\'') throw FileFormatError(path, "npy descr is not a simple dtype");
  array.descr = descr.substr(1, descr.size() - 2);
  if (dict_value(header, "fortran_order", path) != "False") {
    throw FileFormatError(path, "Fortran-ordered arrays are not supported");
  }
  const std::string shape = dict_value(header, "shape", path);
  int64_t dimension = -1;
  for (char c : shape) {
    if (c >= '0' && c <= '9') {
      if (dimension > (int64_t{1} << 40)) throw FileFormatError(path, "npy shape is too large");
      dimension = (dimension < 0 ? 0 : dimension * 10) + (c - '0');
    } else if (dimension >= 0) {
      array.shape.push_back(dimension);
      dimension = -1;
    }
  }
  const std::string& type = array.descr;
  const char order = type[0], kind = type[1];
  if (kind == 'O') {
    throw FileFormatError(path, "object array (pickled Python objects): convert it once with `slip_tools index`");
  }
  if (order == '>') throw FileFormatError(path, "big-endian arrays are not supported");
  int64_t item = 0;
  for (size_t i = 2; i < type.size(); ++i) {
    if (type[i] < '0' || type[i] > '9' || item > (1 << 20)) throw FileFormatError(path, "unsupported dtype '" + type + "'");
    item = item * 10 + (type[i] - '0');
  }
  const int64_t count = array.size();
  const int64_t unit = kind == 'U' ? 4 * item : item;
  if (item <= 0 || count < 0 || (unit > 0 && count > static_cast<int64_t>(bytes.size()) / unit) ||
      static_cast<uint64_t>(count * unit) != bytes.size() - header_start - header_length) {
    throw FileFormatError(path, "data length does not match shape and dtype '" + type + "'");
  }
  const char* data = bytes.data() + header_start + header_length;
  auto load = [&](int64_t i, auto zero) {
    decltype(zero) value;
    std::memcpy(&value, data + i * item, sizeof(value));
    return value;
  };
  if (kind == 'U' || kind == 'S') {
    array.strings.reserve(count);
    for (int64_t i = 0; i < count; ++i) {
      std::string text;
      for (int64_t c = 0; c < item; ++c) {
        uint32_t code = 0;
        if (kind == 'U') {
          std::memcpy(&code, data + (i * item + c) * 4, 4);
          if (code > 0x10FFFF) throw FileFormatError(path, "invalid code point in string " + std::to_string(i));
        } else {
          code = static_cast<uint8_t>(data[i * item + c]);
        }
        if (code == 0) break;
        if (kind == 'U') append_utf8(text, code); else text += static_cast<char>(code);
      }
      array.strings.push_back(std::move(text));
    }
  } else if (kind == 'f' && (item == 4 || item == 8)) {
    array.floats.reserve(count);
    for (int64_t i = 0; i < count; ++i) array.floats.push_back(item == 4 ? load(i, 0.0f) : load(i, 0.0));
  } else if ((kind == 'i' || kind == 'u' || kind == 'b') && (item == 1 || item == 2 || item == 4 || item == 8)) {
    array.integers.reserve(count);
    for (int64_t i = 0; i < count; ++i) {
      int64_t value = 0;
      if (kind == 'i') {
        value = item == 1 ? load(i, int8_t{}) : item == 2 ? load(i, int16_t{}) : item == 4 ? load(i, int32_t{}) : load(i, int64_t{});
      } else {
        value = item == 1 ? load(i, uint8_t{}) : item == 2 ? load(i, uint16_t{}) : item == 4 ? int64_t{load(i, uint32_t{})}
                                                                                               : static_cast<int64_t>(load(i, uint64_t{}));
      }
      array.integers.push_back(value);
    }
  } else {
    throw FileFormatError(path, "unsupported dtype '" + type + "'");
  }
  return array;
}

}  // namespace slipstream
