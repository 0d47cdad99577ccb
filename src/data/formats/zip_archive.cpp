#include "slipstream/data/formats/zip_archive.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "slipstream/core/error.h"
#include "slipstream/data/formats/file_bytes.h"

namespace slipstream {
namespace {

constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr uint32_t kZip64EndLocator = 0x07064b50;
constexpr uint32_t kZip64End = 0x06064b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint64_t kMaxComment = 65535;

uint16_t u16(const std::string& b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) | static_cast<uint8_t>(b[at + 1]) << 8);
}
uint32_t u32(const std::string& b, size_t at) { return u16(b, at) | static_cast<uint32_t>(u16(b, at + 2)) << 16; }
uint64_t u64(const std::string& b, size_t at) { return u32(b, at) | static_cast<uint64_t>(u32(b, at + 4)) << 32; }

}  // namespace

ZipArchive::ZipArchive(std::string path) : path_(std::move(path)) {
  const uint64_t size = file_size(path_);
  if (size < 22) throw FileFormatError(path_, "not a zip archive (too short)");
  const uint64_t tail_size = std::min<uint64_t>(size, 22 + kMaxComment);
  const std::string tail = read_file_range(path_, size - tail_size, tail_size);
  size_t end = std::string::npos;
  for (size_t at = tail.size() - 22 + 1; at-- > 0;) {
    if (u32(tail, at) == kEndOfCentralDirectory) {
      end = at;
      break;
    }
  }
  if (end == std::string::npos) throw FileFormatError(path_, "not a zip archive (no end of central directory)");
  uint64_t entries = u16(tail, end + 10);
  uint64_t directory_size = u32(tail, end + 12);
  uint64_t directory_offset = u32(tail, end + 16);
  if (entries == 0xFFFF || directory_size == 0xFFFFFFFF || directory_offset == 0xFFFFFFFF) {
    if (end < 20 || u32(tail, end - 20) != kZip64EndLocator) throw FileFormatError(path_, "zip64 locator missing");
    const uint64_t record_offset = u64(tail, end - 20 + 8);
    if (record_offset > size - 56) throw FileFormatError(path_, "zip64 end record out of range");
    const std::string record = read_file_range(path_, record_offset, 56);
    if (u32(record, 0) != kZip64End) throw FileFormatError(path_, "zip64 end record corrupt");
    entries = u64(record, 32);
    directory_size = u64(record, 40);
    directory_offset = u64(record, 48);
  }
  if (directory_offset > size || directory_size > size - directory_offset || entries > directory_size / 46) {
    throw FileFormatError(path_, "central directory out of range (truncated or corrupt zip)");
  }
  const std::string directory = read_file_range(path_, directory_offset, directory_size);
  size_t at = 0;
  for (uint64_t e = 0; e < entries; ++e) {
    if (at + 46 > directory.size() || u32(directory, at) != kCentralHeader) {
      throw FileFormatError(path_, "central directory entry " + std::to_string(e) + " is corrupt");
    }
    Member member;
    member.flags = u16(directory, at + 8);
    member.method = u16(directory, at + 10);
    member.crc32 = u32(directory, at + 16);
    member.compressed_size = u32(directory, at + 20);
    member.size = u32(directory, at + 24);
    const size_t name_length = u16(directory, at + 28);
    const size_t extra_length = u16(directory, at + 30);
    const size_t comment_length = u16(directory, at + 32);
    member.local_header_offset = u32(directory, at + 42);
    if (at + 46 + name_length + extra_length + comment_length > directory.size()) {
      throw FileFormatError(path_, "central directory entry " + std::to_string(e) + " runs past the directory");
    }
    std::string name = directory.substr(at + 46, name_length);
    // zip64 extended information: the 64-bit values replace the fields that are all ones, in order.
    for (size_t x = at + 46 + name_length; x + 4 <= at + 46 + name_length + extra_length;) {
      const uint16_t id = u16(directory, x);
      const size_t length = u16(directory, x + 2);
      size_t field = x + 4;
      const size_t field_end = std::min(field + length, at + 46 + name_length + extra_length);
      if (id == 0x0001) {
        for (uint64_t* value : {&member.size, &member.compressed_size, &member.local_header_offset}) {
          if (*value == 0xFFFFFFFF && field + 8 <= field_end) {
            *value = u64(directory, field);
            field += 8;
          }
        }
      }
      x += 4 + length;
    }
    if (member.local_header_offset > size || member.compressed_size > size) {
      throw FileFormatError(path_, "member '" + name + "' lies outside the archive");
    }
    members_[std::move(name)] = member;
    at += 46 + name_length + extra_length + comment_length;
  }
}

std::vector<std::string> ZipArchive::names() const {
  std::vector<std::string> names;
  names.reserve(members_.size());
  for (const auto& [name, member] : members_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

std::string ZipArchive::read(const std::string& name) const {
  const auto found = members_.find(name);
  if (found == members_.end()) throw FileFormatError(path_, "no member '" + name + "' in the archive");
  const Member& member = found->second;
  auto fail = [&](const std::string& problem) { return FileFormatError(path_ + ":" + name, problem); };
  if (member.flags & 1) throw fail("encrypted members are not supported");
  if (member.method != 0 && member.method != 8) {
    throw fail("compression method " + std::to_string(member.method) + " is not supported (stored or deflate)");
  }
  const std::string local = read_file_range(path_, member.local_header_offset, 30);
  if (u32(local, 0) != kLocalHeader) throw fail("corrupt local header");
  const uint64_t data_offset = member.local_header_offset + 30 + u16(local, 26) + u16(local, 28);
  const std::string compressed = read_file_range(path_, data_offset, member.compressed_size);
  std::string bytes;
  if (member.method == 0) {
    if (member.compressed_size != member.size) throw fail("stored member with mismatched sizes");
    bytes = compressed;
  } else {
    // Deflate expands at most about 1032:1, so a larger claimed size is corrupt (and never allocated).
    if (member.size > member.compressed_size * 1032 + 1024 || member.size > (uint64_t{1} << 32)) {
      throw fail("uncompressed size " + std::to_string(member.size) + " impossible for " +
                 std::to_string(member.compressed_size) + " compressed bytes");
    }
    bytes.resize(member.size);
    z_stream stream{};
    if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) throw fail("cannot initialise inflate");
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    stream.avail_in = static_cast<uInt>(compressed.size());
    stream.next_out = reinterpret_cast<Bytef*>(bytes.data());
    stream.avail_out = static_cast<uInt>(bytes.size());
    const int status = inflate(&stream, Z_FINISH);
    const uint64_t produced = stream.total_out;
    inflateEnd(&stream);
    if (status != Z_STREAM_END || produced != member.size) throw fail("corrupt deflate data");
  }
  const uint32_t crc = static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()),
                                                   static_cast<uInt>(bytes.size())));
  if (crc != member.crc32) throw fail("CRC-32 mismatch (corrupt member)");
  return bytes;
}

}  // namespace slipstream
