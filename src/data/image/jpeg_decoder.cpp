#include "slipstream/data/image/jpeg_decoder.h"

#include <ATen/ATen.h>

// jpeglib.h needs size_t and FILE declared first.
#include <csetjmp>
#include <cstring>
#include <cstdio>
#include <jpeglib.h>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

// PIL's DecompressionBombError threshold (2 x Image.MAX_IMAGE_PIXELS): larger images are refused.
constexpr uint64_t kMaxPixels = 178'956'970;

// libjpeg reports fatal errors through error_exit, which must not return: it longjmps back into
// the step that failed. The steps below hold no C++ objects, so nothing is skipped by the jump.
struct ErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_error(j_common_ptr info) {
  auto* manager = reinterpret_cast<ErrorManager*>(info->err);
  (*info->err->format_message)(info, manager->message);
  std::longjmp(manager->jump, 1);
}

void ignore_message(j_common_ptr, int) {}  // corrupt-data warnings: decoding goes on, as with OpenCV and PIL

bool read_header(jpeg_decompress_struct* info, ErrorManager* errors, const uint8_t* data, size_t size) {
  if (setjmp(errors->jump)) return false;
  jpeg_mem_src(info, const_cast<unsigned char*>(data), static_cast<unsigned long>(size));
  jpeg_read_header(info, TRUE);
  return true;
}

bool start(jpeg_decompress_struct* info, ErrorManager* errors, int reduction) {
  if (setjmp(errors->jump)) return false;
  info->out_color_space = JCS_RGB;
  info->scale_num = 1;
  info->scale_denom = static_cast<unsigned int>(reduction);
  jpeg_start_decompress(info);
  return true;
}

bool read_rows(jpeg_decompress_struct* info, ErrorManager* errors, uint8_t* out) {
  if (setjmp(errors->jump)) return false;
  const size_t stride = static_cast<size_t>(info->output_width) * 3;
  while (info->output_scanline < info->output_height) {
    JSAMPROW row = out + static_cast<size_t>(info->output_scanline) * stride;
    jpeg_read_scanlines(info, &row, 1);
  }
  jpeg_finish_decompress(info);
  return true;
}

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

Image apply_exif_orientation(const Image& image, int orientation) {
  switch (orientation) {
    case 2: return image.flip({1}).contiguous();                     // mirrored
    case 3: return image.flip({0, 1}).contiguous();                  // rotated 180
    case 4: return image.flip({0}).contiguous();                     // mirrored vertically
    case 5: return image.transpose(0, 1).contiguous();               // transposed
    case 6: return image.transpose(0, 1).flip({1}).contiguous();     // rotated 90 clockwise
    case 7: return image.transpose(0, 1).flip({0, 1}).contiguous();  // transversed
    case 8: return image.transpose(0, 1).flip({0}).contiguous();     // rotated 90 counter-clockwise
    default: return image;
  }
}

std::optional<Image> decode_jpeg_rgb(const uint8_t* data, size_t size, const std::string& source, int reduction) {
  jpeg_decompress_struct info{};
  ErrorManager errors{};
  info.err = jpeg_std_error(&errors.base);
  errors.base.error_exit = on_error;
  errors.base.emit_message = ignore_message;
  jpeg_create_decompress(&info);
  struct Destroy {
    jpeg_decompress_struct* info;
    ~Destroy() { jpeg_destroy_decompress(info); }
  } destroy{&info};
  if (!read_header(&info, &errors, data, size)) throw SampleError(source, std::string("cannot decode JPEG: ") + errors.message);
  const bool supported = (info.jpeg_color_space == JCS_GRAYSCALE && info.num_components == 1) ||
                         ((info.jpeg_color_space == JCS_YCbCr || info.jpeg_color_space == JCS_RGB) && info.num_components == 3);
  if (!supported) return std::nullopt;
  if (static_cast<uint64_t>(info.image_width) * info.image_height > kMaxPixels) {
    throw SampleError(source, "JPEG of " + std::to_string(info.image_width) + "x" + std::to_string(info.image_height) +
                                  " pixels exceeds the decompression-bomb limit of " + std::to_string(kMaxPixels));
  }
  if (!start(&info, &errors, reduction)) throw SampleError(source, std::string("cannot decode JPEG: ") + errors.message);
  Image rgb = at::empty({static_cast<int64_t>(info.output_height), static_cast<int64_t>(info.output_width), 3}, at::kByte);
  if (!read_rows(&info, &errors, rgb.data_ptr<uint8_t>())) {
    throw SampleError(source, std::string("cannot decode JPEG: ") + errors.message);
  }
  return apply_exif_orientation(rgb, jpeg_exif_orientation(data, size));
}

}  // namespace slipstream
