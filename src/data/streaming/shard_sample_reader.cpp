#include "slipstream/data/streaming/shard_sample_reader.h"

#include "slipstream/data/formats/webdataset_members.h"

namespace slipstream {
namespace {

constexpr size_t kMaxCaptionBytes = 1 << 20;

}  // namespace

ShardSampleReader::ShardSampleReader(std::unique_ptr<ByteStream> stream, std::string url)
    : stream_(std::move(stream)), url_(std::move(url)), tar_(*stream_, url_) {}

bool ShardSampleReader::next(ShardSample& sample) {
  while (!ended_ || held_) {
    // One key's members: the held one (or the next), then every following member of that key.
    TarEntry entry;
    if (held_) {
      entry = std::move(*held_);
      held_.reset();
    } else if (!tar_.next(entry)) {
      ended_ = true;
      return false;
    }
    const MemberName first = split_member_name(entry.name);
    const std::string key = first.key;
    std::string image, text, json;
    auto take = [&](TarEntry& member, const MemberName& name) {
      if (name.key != key) return;  // an extra field of the sample ("000123.seg.png")
      if (name.role == MemberRole::kImage && image.empty()) image = std::move(member.data);
      else if (name.role == MemberRole::kText && member.data.size() <= kMaxCaptionBytes) text = std::move(member.data);
      else if (name.role == MemberRole::kJson && member.data.size() <= kMaxCaptionBytes) json = std::move(member.data);
    };
    take(entry, first);
    while (true) {
      TarEntry more;
      if (!tar_.next(more)) {
        ended_ = true;
        break;
      }
      const MemberName name = split_member_name(more.name);
      if (!member_of_sample(key, name.key)) {
        held_ = std::move(more);
        break;
      }
      take(more, name);
    }
    std::string caption = sample_caption(text, json);
    if (image.empty() || caption.empty()) {
      ++incomplete_;
      continue;
    }
    sample.key = key;
    sample.image = std::move(image);
    sample.caption = std::move(caption);
    return true;
  }
  return false;
}

}  // namespace slipstream
