#include "slipstream/data/datasets/yfcc15m.h"

#include <algorithm>
#include <cstdio>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends bytes decoded as UTF-8 as Python's bytes.decode('utf-8', 'replace') does: each maximal
// invalid subpart becomes U+FFFD.
void append_utf8_replacing(std::string& out, const std::string& bytes) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = b[i];
    size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;
    if (c < 0x80) length = 1;
    else if (c >= 0xC2 && c <= 0xDF) length = 2;
    else if (c >= 0xE0 && c <= 0xEF) { length = 3; if (c == 0xE0) low = 0xA0; if (c == 0xED) high = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { length = 4; if (c == 0xF0) low = 0x90; if (c == 0xF4) high = 0x8F; }
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    size_t k = 1;
    for (; k < length && i + k < n; ++k) {
      const unsigned char lo = k == 1 ? low : 0x80, hi = k == 1 ? high : 0xBF;
      if (b[i + k] < lo || b[i + k] > hi) break;
    }
    if (k == length) {
      out.append(bytes, i, length);
    } else {
      out += "\xEF\xBF\xBD";
    }
    i += k;
  }
}

// urllib.parse.unquote: runs of %XX escapes are decoded together as UTF-8 (errors replaced).
std::string unquote(const std::string& text) {
  std::string out, run;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      run += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 3;
      continue;
    }
    if (!run.empty()) {
      append_utf8_replacing(out, run);
      run.clear();
    }
    out += text[i++];
  }
  if (!run.empty()) append_utf8_replacing(out, run);
  return out;
}

// Python's str.isspace() for the characters a caption holds: ASCII whitespace, the information
// separators 0x1c-0x1f, and the Unicode spaces (U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028,
// U+2029, U+202F, U+205F, U+3000). Returns the byte length of the space at `at`, or 0.
size_t space_length(const std::string& s, size_t at) {
  const auto c = static_cast<unsigned char>(s[at]);
  if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F)) return 1;
  auto byte = [&](size_t k) { return at + k < s.size() ? static_cast<unsigned char>(s[at + k]) : 0; };
  if (c == 0xC2 && (byte(1) == 0x85 || byte(1) == 0xA0)) return 2;
  if (c == 0xE1 && byte(1) == 0x9A && byte(2) == 0x80) return 3;
  if (c == 0xE2 && byte(1) == 0x80 && ((byte(2) >= 0x80 && byte(2) <= 0x8A) || byte(2) == 0xA8 || byte(2) == 0xA9 || byte(2) == 0xAF)) return 3;
  if (c == 0xE2 && byte(1) == 0x81 && byte(2) == 0x9F) return 3;
  if (c == 0xE3 && byte(1) == 0x80 && byte(2) == 0x80) return 3;
  return 0;
}

// re.sub('<a.*?>|</a>|<b>|</b>|<i>|</i>', '', text): '.' does not match a newline.
std::string remove_tags(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 2, "<a") == 0) {
      const size_t close = text.find('>', i + 2);
      const size_t newline = text.find('\n', i + 2);
      if (close != std::string::npos && (newline == std::string::npos || close < newline)) {
        i = close + 1;
        continue;
      }
    }
    bool removed = false;
    for (const char* tag : {"</a>", "<b>", "</b>", "<i>", "</i>"}) {
      const size_t length = std::char_traits<char>::length(tag);
      if (text.compare(i, length, tag) == 0) {
        i += length;
        removed = true;
        break;
      }
    }
    if (!removed) out += text[i++];
  }
  return out;
}

// re.sub('http\S+|www\S+', '', text).
std::string remove_urls(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const bool http = text.compare(i, 4, "http") == 0, www = text.compare(i, 3, "www") == 0;
    const size_t prefix = http ? 4 : www ? 3 : 0;
    if (prefix > 0 && i + prefix < text.size() && space_length(text, i + prefix) == 0) {
      size_t j = i + prefix;
      while (j < text.size() && space_length(text, j) == 0) ++j;
      i = j;
      continue;
    }
    out += text[i++];
  }
  return out;
}

}  // namespace

std::pair<std::string, std::string> yfcc_image_location(int64_t photo_index) {
  char digits[32];
  std::snprintf(digits, sizeof(digits), "%08lld", static_cast<long long>(photo_index));
  const std::string index(digits);
  return {"images/" + index.substr(0, 2) + "/" + index.substr(2, 3) + ".zip", index.substr(5) + ".jpg"};
}

std::string clean_yfcc_caption(const std::string& raw) {
  std::string text = unquote(raw);
  for (char& c : text) {
    if (c == '+') c = ' ';
  }
  return remove_urls(remove_tags(text));
}

Yfcc15mImages::Yfcc15mImages(std::string root, size_t cached_archives)
    : root_(std::move(root)), capacity_(std::max<size_t>(1, cached_archives)) {}

std::shared_ptr<const ZipArchive> Yfcc15mImages::archive(const std::string& relative_path) const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = by_path_.find(relative_path);
    if (found != by_path_.end()) {
      recent_.splice(recent_.begin(), recent_, found->second);
      return found->second->second;
    }
  }
  // Read the central directory outside the lock; two threads may both read it, one copy is kept.
  auto opened = std::make_shared<const ZipArchive>(root_ + "/" + relative_path);
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = by_path_.find(relative_path);
  if (found != by_path_.end()) return found->second->second;
  recent_.emplace_front(relative_path, opened);
  by_path_[relative_path] = recent_.begin();
  if (recent_.size() > capacity_) {
    by_path_.erase(recent_.back().first);
    recent_.pop_back();
  }
  return opened;
}

std::string Yfcc15mImages::read(int64_t photo_index) const {
  const auto [zip, member] = yfcc_image_location(photo_index);
  const std::string source = root_ + "/" + zip + ":" + member;
  try {
    return archive(zip)->read(member);
  } catch (const FileFormatError& e) {
    throw SampleError(source, e.what());
  }
}

}  // namespace slipstream
