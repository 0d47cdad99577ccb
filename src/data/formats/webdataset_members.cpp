#include "slipstream/data/formats/webdataset_members.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace slipstream {
namespace {

MemberRole role_of(const std::string& extension) {
  for (const char* image : {"jpg", "jpeg", "png", "webp", "bmp"}) {
    if (extension == image) return MemberRole::kImage;
  }
  if (extension == "txt") return MemberRole::kText;
  if (extension == "json") return MemberRole::kJson;
  return MemberRole::kOther;
}

}  // namespace

MemberName split_member_name(const std::string& name) {
  const size_t slash = name.rfind('/');
  const size_t dot = name.rfind('.');
  MemberName member;
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) {
    member.key = name;
    return member;
  }
  member.key = name.substr(0, dot);
  member.extension = name.substr(dot + 1);
  std::transform(member.extension.begin(), member.extension.end(), member.extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  member.role = role_of(member.extension);
  return member;
}

bool member_of_sample(const std::string& sample_key, const std::string& member_key) {
  return member_key == sample_key ||
         (member_key.size() > sample_key.size() && member_key.compare(0, sample_key.size(), sample_key) == 0 &&
          member_key[sample_key.size()] == '.');
}

std::string sample_caption(const std::string& text, const std::string& json) {
  std::string caption = text;
  if (caption.empty() && !json.empty()) {
    const nlohmann::json record = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (record.is_object()) {
      for (const char* field : {"caption", "text"}) {
        if (record.contains(field) && record[field].is_string()) {
          caption = record[field].get<std::string>();
          break;
        }
      }
    }
  }
  while (!caption.empty() && (caption.back() == '\n' || caption.back() == '\r')) caption.pop_back();
  return caption;
}

}  // namespace slipstream
