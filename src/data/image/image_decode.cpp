#include "slipstream/data/image/image_decode.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "slipstream/core/error.h"
#ifdef SLIPSTREAM_WITH_LIBJPEG
#include "slipstream/data/image/jpeg_decoder.h"
#endif

namespace slipstream {

std::optional<std::pair<int64_t, int64_t>> jpeg_size(const uint8_t* data, size_t size) {
  if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) return std::nullopt;
  size_t i = 2;
  while (i + 4 <= size) {
    if (data[i] != 0xFF) return std::nullopt;
    const uint8_t marker = data[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD9)) {  // markers without a length
      i += 2;
      continue;
    }
    const size_t length = (static_cast<size_t>(data[i + 2]) << 8) | data[i + 3];
    const bool start_of_frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (start_of_frame) {
      if (i + 9 > size) return std::nullopt;
      const int64_t height = (static_cast<int64_t>(data[i + 5]) << 8) | data[i + 6];
      const int64_t width = (static_cast<int64_t>(data[i + 7]) << 8) | data[i + 8];
      return std::make_pair(width, height);
    }
    if (length < 2) return std::nullopt;
    i += 2 + length;
  }
  return std::nullopt;
}

namespace {

uint32_t load(const uint8_t* p, int bytes, bool little_endian) {
  uint32_t value = 0;
  for (int i = 0; i < bytes; ++i) value |= static_cast<uint32_t>(p[little_endian ? i : bytes - 1 - i]) << (8 * i);
  return value;
}

// The orientation tag (0x0112) of the first IFD of a TIFF block; 1 when absent or malformed.
int tiff_orientation(const uint8_t* tiff, size_t size) {
  if (size < 8) return 1;
  const bool little = tiff[0] == 'I' && tiff[1] == 'I';
  if (!little && !(tiff[0] == 'M' && tiff[1] == 'M')) return 1;
  const uint32_t ifd = load(tiff + 4, 4, little);
  if (ifd > size - 2) return 1;
  const uint32_t entries = load(tiff + ifd, 2, little);
  for (uint32_t e = 0; e < entries; ++e) {
    const size_t at = ifd + 2 + static_cast<size_t>(e) * 12;
    if (at + 12 > size) return 1;
    if (load(tiff + at, 2, little) == 0x0112 && load(tiff + at + 2, 2, little) == 3) {
      const uint32_t value = load(tiff + at + 8, 2, little);
      return value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
    }
  }
  return 1;
}

}  // namespace

int jpeg_exif_orientation(const uint8_t* data, size_t size) {
  if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) return 1;
  size_t i = 2;
  while (i + 4 <= size && data[i] == 0xFF) {
    const uint8_t marker = data[i + 1];
    if (marker == 0xDA || marker == 0xD9) break;  // image data: no more metadata segments
    const size_t length = static_cast<size_t>(data[i + 2]) << 8 | data[i + 3];
    if (length < 2 || i + 2 + length > size) break;
    if (marker == 0xE1 && length >= 8 && std::memcmp(data + i + 4, "Exif\0\0", 6) == 0) {
      return tiff_orientation(data + i + 10, length - 8);
    }
    i += 2 + length;
  }
  return 1;
}

std::optional<std::pair<int64_t, int64_t>> jpeg_upright_size(const uint8_t* data, size_t size) {
  const auto dimensions = jpeg_size(data, size);  // (width, height) as stored
  if (!dimensions) return std::nullopt;
  const bool transposed = jpeg_exif_orientation(data, size) >= 5;  // orientations 5-8 turn by 90 degrees
  return transposed ? std::make_pair(dimensions->first, dimensions->second)
                    : std::make_pair(dimensions->second, dimensions->first);
}

int jpeg_reduction(int64_t height, int64_t width, const DecodeOptions& options) {
  if (options.target_size <= 0) return 1;
  // The smallest crop's short side is about sqrt(min_crop_scale) of the image's short side.
  const double smallest_crop = static_cast<double>(std::min(height, width)) * std::sqrt(options.min_crop_scale);
  int reduction = 1;
  for (int candidate : {2, 4, 8}) {
    if (smallest_crop / candidate >= static_cast<double>(options.target_size)) reduction = candidate;
  }
  return reduction;
}

int jpeg_reduction_for_crops(const std::vector<CropBox>& crops, const std::vector<int64_t>& sizes) {
  if (crops.size() != sizes.size()) throw ShapeError("jpeg_reduction_for_crops: one output size per crop expected");
  int reduction = 1;
  for (int candidate : {2, 4, 8}) {
    bool fits = true;
    for (size_t v = 0; v < crops.size(); ++v) {
      fits = fits && crops[v].height >= sizes[v] * candidate && crops[v].width >= sizes[v] * candidate;
    }
    if (fits) reduction = candidate;
  }
  return reduction;
}

namespace {

// A JPEG must end with its end-of-image marker (trailing padding allowed); libjpeg would
// otherwise fill the missing rows with grey and only warn.
bool jpeg_is_complete(const uint8_t* data, size_t size) {
  const size_t window = std::min<size_t>(size, 4096);
  for (size_t k = size - window; k + 1 < size; ++k) {
    if (data[k] == 0xFF && data[k + 1] == 0xD9) return true;
  }
  return false;
}

}  // namespace

Image decode_image(const uint8_t* data, size_t size, const std::string& source, const DecodeOptions& options) {
  if (data == nullptr || size == 0) throw SampleError(source, "empty image data");
  int flags = cv::IMREAD_COLOR;  // 8-bit BGR; applies EXIF orientation
  if (auto dimensions = jpeg_size(data, size)) {
    if (!jpeg_is_complete(data, size)) throw SampleError(source, "truncated JPEG (no end-of-image marker)");
    const int reduction = options.reduction > 0 ? options.reduction : jpeg_reduction(dimensions->second, dimensions->first, options);
#ifdef SLIPSTREAM_WITH_LIBJPEG
    // Grey and YCbCr JPEGs straight to RGB through libjpeg (OpenCV would swap to BGR and back).
    if (auto image = decode_jpeg_rgb(data, size, source, reduction)) return *image;
#endif
    switch (reduction) {
      case 2: flags = cv::IMREAD_REDUCED_COLOR_2; break;
      case 4: flags = cv::IMREAD_REDUCED_COLOR_4; break;
      case 8: flags = cv::IMREAD_REDUCED_COLOR_8; break;
      default: break;
    }
  }
  cv::Mat bgr;
  try {
    bgr = cv::imdecode(cv::Mat(1, static_cast<int>(size), CV_8UC1, const_cast<uint8_t*>(data)), flags);
  } catch (const cv::Exception& e) {
    throw SampleError(source, std::string("cannot decode image: ") + e.what());
  }
  if (bgr.empty() || bgr.type() != CV_8UC3) throw SampleError(source, "not a decodable image");
  Image rgb = at::empty({bgr.rows, bgr.cols, 3}, at::kByte);  // [H, W, 3]
  cv::Mat target(bgr.rows, bgr.cols, CV_8UC3, rgb.data_ptr<uint8_t>());
  cv::cvtColor(bgr, target, cv::COLOR_BGR2RGB);
  return rgb;
}

Image load_image(const std::string& path, const DecodeOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw SampleError(path, "cannot open image file");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return decode_image(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path, options);
}

}  // namespace slipstream
