// One 512-byte tar header (POSIX ustar, GNU 'L' long names, pax 'x' path records), as both the
// shard indexer (tar_index.h) and the streaming reader (tar_stream.h) read it.
#pragma once
#include <cstdint>
#include <string>

namespace slipstream {

constexpr uint64_t kTarBlock = 512;

// What a header says, or why it cannot be read.
struct TarHeader {
  bool end_marker = false;  // an all-zero block: the end of the archive
  std::string problem;      // non-empty: not a valid header (checksum, size field)
  char type = '0';          // '0'/'\0'/'7' regular file, 'L' GNU long name, 'x' pax record, others skipped
  uint64_t size = 0;        // bytes of data after the header (padded to whole blocks)
  std::string name;         // ustar name with its prefix; a preceding 'L' or 'x' entry overrides it
  bool regular_file() const { return type == '0' || type == '\0' || type == '7'; }
  bool long_name_record() const { return type == 'L' || type == 'x'; }
};

TarHeader parse_tar_header(const unsigned char* block);

// The name an 'L' entry's or a pax 'x' header's data gives the next member ("" when a pax header
// has no path record).
std::string tar_long_name(char type, const std::string& payload);

// Bytes a member of `size` bytes occupies after its header, padding included.
inline uint64_t tar_padded_size(uint64_t size) { return (size + kTarBlock - 1) / kTarBlock * kTarBlock; }

}  // namespace slipstream
