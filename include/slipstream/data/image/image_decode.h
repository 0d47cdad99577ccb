// Decoding encoded images (JPEG, PNG, WebP, BMP, ...) into the pipeline's RGB uint8 [H, W, 3],
// with OpenCV: grey, alpha, CMYK and 16-bit inputs become RGB8, EXIF orientation is applied, and a
// JPEG can be decoded at 1/2, 1/4 or 1/8 size when the crops taken from it are much smaller.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "slipstream/data/image/geometric_transforms.h"
#include "slipstream/data/image/image.h"

namespace slipstream {

struct DecodeOptions {
  int64_t target_size = 0;      // side of the crops the image will be resized to; 0: full resolution
  double min_crop_scale = 1.0;  // smallest share of the image's area a crop may cover
  int reduction = 0;            // 1, 2, 4 or 8 chosen by the caller (jpeg_reduction_for_crops); 0: jpeg_reduction's
};

// Width and height from a JPEG's frame header without decoding it; nullopt if not a JPEG.
std::optional<std::pair<int64_t, int64_t>> jpeg_size(const uint8_t* data, size_t size);

// The EXIF orientation (1-8) of a JPEG's APP1 segment; 1 when there is none or it is malformed.
int jpeg_exif_orientation(const uint8_t* data, size_t size);

// (height, width) of a JPEG as decoded, its EXIF orientation applied; nullopt if not a JPEG.
std::optional<std::pair<int64_t, int64_t>> jpeg_upright_size(const uint8_t* data, size_t size);

// The JPEG reduction (1, 2, 4 or 8) that keeps the smallest possible crop at least target_size
// pixels on its short side, so resizing it stays a downscale.
int jpeg_reduction(int64_t height, int64_t width, const DecodeOptions& options);
// The largest reduction (1, 2, 4 or 8) after which every crop (drawn on the full-size image) still
// spans at least its view's output size in both directions: when the crops are already drawn,
// decoding smaller keeps every resize a downscale.
int jpeg_reduction_for_crops(const std::vector<CropBox>& crops, const std::vector<int64_t>& sizes);

// Throws SampleError naming `source` (a path, or shard and member) when the bytes are not a
// decodable image, or a JPEG is truncated.
Image decode_image(const uint8_t* data, size_t size, const std::string& source, const DecodeOptions& options = {});
Image load_image(const std::string& path, const DecodeOptions& options = {});

}  // namespace slipstream
