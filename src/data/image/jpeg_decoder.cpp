#include "slipstream/data/image/jpeg_decoder.h"

#include <ATen/ATen.h>

// jpeglib.h needs size_t and FILE declared first.
#include <csetjmp>
#include <cstdio>
#include <jpeglib.h>

#include "slipstream/core/error.h"
#include "slipstream/data/image/image_decode.h"

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

}  // namespace

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
