// How the members of a WebDataset shard form samples, shared by the random-access reader and the
// streaming one: consecutive members with the same key are one sample ("000123.jpg",
// "000123.txt", "000123.json" in any order). The key is the member's name without its last
// extension, so keys may hold dots ("shot.2024.jpg" + "shot.2024.txt"); a member whose key
// extends the sample's by a dot ("000123.seg.png") is an extra field of that sample and is not read.
#pragma once
#include <string>

namespace slipstream {

enum class MemberRole { kImage, kText, kJson, kOther };

struct MemberName {
  std::string key;        // "dir/000123"
  std::string extension;  // "jpg" (lower case)
  MemberRole role = MemberRole::kOther;
};

MemberName split_member_name(const std::string& name);

// Whether a member with key `member_key` belongs to the sample keyed `sample_key`.
bool member_of_sample(const std::string& sample_key, const std::string& member_key);

// A sample's caption from its members' bytes: the .txt (trailing line breaks removed), else the
// JSON's "caption" or "text" field; "" when it has neither.
std::string sample_caption(const std::string& text, const std::string& json);

}  // namespace slipstream
