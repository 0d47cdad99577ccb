#include "slipstream/data/streaming/tar_stream.h"

#include <algorithm>
#include <cstring>

#include "slipstream/data/formats/tar_header.h"

namespace slipstream {
namespace {

constexpr size_t kBufferBytes = 1 << 16;
constexpr uint64_t kMaxMemberBytes = uint64_t{1} << 30;
constexpr uint64_t kMaxNameRecordBytes = 1 << 20;

}  // namespace

TarStreamReader::TarStreamReader(ByteStream& stream, std::string url)
    : stream_(stream), url_(std::move(url)), buffer_(kBufferBytes) {}

size_t TarStreamReader::read_up_to(char* out, size_t size) {
  size_t done = 0;
  while (done < size) {
    if (begin_ == end_) {
      if (stream_ended_) break;
      begin_ = 0;
      end_ = stream_.read(buffer_.data(), buffer_.size());
      if (end_ == 0) {
        stream_ended_ = true;
        break;
      }
    }
    const size_t n = std::min(size - done, end_ - begin_);
    if (out) std::memcpy(out + done, buffer_.data() + begin_, n);
    begin_ += n;
    done += n;
  }
  offset_ += done;
  return done;
}

void TarStreamReader::read_member(uint64_t size, std::string* out, const std::string& name) {
  const uint64_t start = offset_;
  if (out) out->resize(static_cast<size_t>(size));
  const size_t got = read_up_to(out ? out->data() : nullptr, static_cast<size_t>(size));
  if (got < size) {
    throw ShardError(url_, "truncated: the stream ends inside member '" + name + "' (" + std::to_string(got) + " of " +
                               std::to_string(size) + " bytes, at offset " + std::to_string(start + got) + ")");
  }
  const size_t padding = static_cast<size_t>(tar_padded_size(size) - size);
  if (read_up_to(nullptr, padding) < padding) {
    throw ShardError(url_, "truncated: the stream ends inside the padding of member '" + name + "' (at offset " +
                               std::to_string(offset_) + ")");
  }
}

bool TarStreamReader::next(TarEntry& entry) {
  std::string long_name;  // from a GNU 'L' entry or a pax 'x' header, for the next member
  while (true) {
    unsigned char block[kTarBlock];
    const uint64_t at = offset_;
    const size_t got = read_up_to(reinterpret_cast<char*>(block), kTarBlock);
    if (got == 0) {
      if (at == 0) throw ShardError(url_, "empty shard (no bytes)");
      // Every tar writer ends the archive with zero blocks: without them the shard was cut short.
      throw ShardError(url_, "truncated: the stream ends at offset " + std::to_string(at) +
                                 " without the end-of-archive blocks");
    }
    if (got < kTarBlock) {
      if (at == 0) throw ShardError(url_, "not a tar archive (" + std::to_string(got) + " bytes)");
      throw ShardError(url_, "truncated: the stream ends inside a header at offset " + std::to_string(at));
    }
    const TarHeader header = parse_tar_header(block);
    if (header.end_marker) return false;
    if (!header.problem.empty()) {
      if (at == 0) throw ShardError(url_, "not a tar archive (no valid header at offset 0)");
      throw ShardError(url_, "corrupt header at offset " + std::to_string(at) + " (" + header.problem + ")");
    }
    if (header.long_name_record()) {
      if (header.size > kMaxNameRecordBytes) throw ShardError(url_, "oversized name record at offset " + std::to_string(at));
      std::string payload;
      read_member(header.size, &payload, "(name record)");
      long_name = tar_long_name(header.type, payload);
      continue;
    }
    const std::string name = long_name.empty() ? header.name : long_name;
    if (!header.regular_file()) {  // directories, links: no data of ours
      read_member(header.size, nullptr, name);
      long_name.clear();
      continue;
    }
    if (header.size > kMaxMemberBytes) {
      throw ShardError(url_, "member '" + name + "' of " + std::to_string(header.size) + " bytes at offset " +
                                 std::to_string(at) + " (over 1 GiB: a corrupt header?)");
    }
    entry.name = name;
    read_member(header.size, &entry.data, name);
    return true;
  }
}

}  // namespace slipstream
