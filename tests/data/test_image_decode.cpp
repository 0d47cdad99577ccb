// Image decoding: formats, grey/alpha/16-bit inputs to RGB8, EXIF orientation, JPEG header
// parsing and reduction choice, and SampleError (never a crash) for corrupt or truncated data.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data/encode_image.h"
#include "slipstream/core/error.h"
#include "slipstream/data/image/image_decode.h"

namespace slipstream {
namespace {

Image gradient(int64_t height, int64_t width) {
  Image image = at::empty({height, width, 3}, at::kByte);
  auto* p = image.data_ptr<uint8_t>();
  for (int64_t y = 0; y < height; ++y) {
    for (int64_t x = 0; x < width; ++x) {
      p[(y * width + x) * 3] = static_cast<uint8_t>(x * 255 / width);
      p[(y * width + x) * 3 + 1] = static_cast<uint8_t>(y * 255 / height);
      p[(y * width + x) * 3 + 2] = 128;
    }
  }
  return image;
}

Image decode(const std::vector<uint8_t>& bytes, const DecodeOptions& options = {}) {
  return decode_image(bytes.data(), bytes.size(), "test", options);
}

TEST(ImageDecode, LosslessFormatsRoundTripAndJpegIsClose) {
  const Image image = gradient(48, 64);
  for (const char* extension : {".png", ".bmp", ".webp"}) {
    std::vector<uint8_t> bytes = testing::encode_image(image, extension, 100);
    if (std::string(extension) == ".webp") {
      bytes.clear();  // lossless WebP needs quality > 100
      cv::Mat rgb(48, 64, CV_8UC3, image.data_ptr<uint8_t>());
      cv::Mat bgr;
      cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
      ASSERT_TRUE(cv::imencode(".webp", bgr, bytes, {cv::IMWRITE_WEBP_QUALITY, 101}));
    }
    EXPECT_TRUE(at::equal(decode(bytes), image)) << extension;
  }
  const Image jpeg = decode(testing::encode_image(image, ".jpg", 95));
  EXPECT_LT((jpeg.to(at::kInt) - image.to(at::kInt)).abs().to(at::kFloat).mean().item<float>(), 2.0f);
}

TEST(ImageDecode, GreyAlphaAnd16BitBecomeRgb8) {
  cv::Mat grey(10, 12, CV_8UC1, cv::Scalar(77));
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(cv::imencode(".png", grey, bytes));
  Image rgb = decode(bytes);
  EXPECT_EQ(rgb.sizes(), (std::vector<int64_t>{10, 12, 3}));
  EXPECT_EQ(rgb.min().item<int64_t>(), 77);
  EXPECT_EQ(rgb.max().item<int64_t>(), 77);

  cv::Mat bgra(10, 12, CV_8UC4, cv::Scalar(10, 20, 30, 0));  // fully transparent: colour kept, alpha dropped
  ASSERT_TRUE(cv::imencode(".png", bgra, bytes));
  rgb = decode(bytes);
  EXPECT_EQ(rgb[0][0][0].item<int64_t>(), 30);
  EXPECT_EQ(rgb[0][0][2].item<int64_t>(), 10);

  cv::Mat deep(10, 12, CV_16UC3, cv::Scalar(65535, 32768, 0));
  ASSERT_TRUE(cv::imencode(".png", deep, bytes));
  rgb = decode(bytes);
  EXPECT_EQ(rgb.scalar_type(), at::kByte);
  EXPECT_EQ(rgb[0][0][0].item<int64_t>(), 0);
  EXPECT_EQ(rgb[0][0][1].item<int64_t>(), 128);
  EXPECT_EQ(rgb[0][0][2].item<int64_t>(), 255);
}

// Inserts an EXIF APP1 segment with the given orientation right after the JPEG's SOI marker.
std::vector<uint8_t> with_exif_orientation(const std::vector<uint8_t>& jpeg, uint16_t orientation) {
  const std::vector<uint8_t> tiff = {'I', 'I', 42, 0, 8, 0, 0, 0,  // little-endian TIFF header, IFD at 8
                                     1, 0,                          // one entry
                                     0x12, 0x01, 3, 0, 1, 0, 0, 0,  // tag 0x0112 (orientation), SHORT, count 1
                                     static_cast<uint8_t>(orientation), 0, 0, 0, 0, 0, 0, 0};  // value, next IFD
  std::vector<uint8_t> segment = {'E', 'x', 'i', 'f', 0, 0};
  segment.insert(segment.end(), tiff.begin(), tiff.end());
  const size_t length = segment.size() + 2;
  std::vector<uint8_t> out = {0xFF, 0xD8, 0xFF, 0xE1, static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
  out.insert(out.end(), segment.begin(), segment.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

TEST(ImageDecode, ExifOrientationIsApplied) {
  const std::vector<uint8_t> jpeg = testing::encode_image(gradient(40, 64), ".jpg", 95);
  const Image upright = decode(jpeg);
  const Image rotated = decode(with_exif_orientation(jpeg, 6));  // 6: rotate 90 degrees clockwise
  EXPECT_EQ(upright.sizes(), (std::vector<int64_t>{40, 64, 3}));
  EXPECT_EQ(rotated.sizes(), (std::vector<int64_t>{64, 40, 3}));
  // Clockwise: the upright image's bottom-left corner becomes the top-left.
  EXPECT_NEAR(rotated[0][0][1].item<int64_t>(), upright[39][0][1].item<int64_t>(), 8);
}

TEST(ImageDecode, JpegHeaderAndReduction) {
  const std::vector<uint8_t> jpeg = testing::encode_image(gradient(300, 500), ".jpg");
  const auto size = jpeg_size(jpeg.data(), jpeg.size());
  ASSERT_TRUE(size.has_value());
  EXPECT_EQ(size->first, 500);
  EXPECT_EQ(size->second, 300);
  const std::vector<uint8_t> png = testing::encode_image(gradient(3, 3), ".png");
  EXPECT_FALSE(jpeg_size(png.data(), png.size()).has_value());
  DecodeOptions options;
  EXPECT_EQ(jpeg_reduction(3000, 4000, options), 1);  // no target: full size
  options.target_size = 224;
  options.min_crop_scale = 1.0;
  EXPECT_EQ(jpeg_reduction(3000, 4000, options), 8);  // 375 >= 224
  EXPECT_EQ(jpeg_reduction(1000, 1000, options), 4);  // 250 >= 224
  options.min_crop_scale = 0.08;
  EXPECT_EQ(jpeg_reduction(1000, 1000, options), 1);  // the smallest crop, 283 px, must not shrink
  options.min_crop_scale = 1.0;
  EXPECT_EQ(decode(jpeg, options).sizes(), (std::vector<int64_t>{300, 500, 3}));  // 300/2 < 224
}

TEST(ImageDecode, DrawnCropsChooseTheReductionOnTheUprightSize) {
  const std::vector<uint8_t> jpeg = testing::encode_image(gradient(40, 64), ".jpg");
  EXPECT_EQ(jpeg_upright_size(jpeg.data(), jpeg.size()), std::make_pair(int64_t{40}, int64_t{64}));
  const std::vector<uint8_t> turned = with_exif_orientation(jpeg, 6);  // stored 64 wide, shown 64 high
  EXPECT_EQ(jpeg_upright_size(turned.data(), turned.size()), std::make_pair(int64_t{64}, int64_t{40}));
  const std::vector<uint8_t> png = testing::encode_image(gradient(3, 3), ".png");
  EXPECT_FALSE(jpeg_upright_size(png.data(), png.size()).has_value());
  // Every crop must still span its view's size in both directions after the reduction.
  EXPECT_EQ(jpeg_reduction_for_crops({{0, 0, 1000, 900}}, {224}), 4);   // 900 / 4 = 225
  EXPECT_EQ(jpeg_reduction_for_crops({{0, 0, 1000, 890}}, {224}), 2);   // 890 / 4 < 224
  EXPECT_EQ(jpeg_reduction_for_crops({{0, 0, 1000, 900}, {0, 0, 300, 300}}, {224, 224}), 1);
  EXPECT_EQ(jpeg_reduction_for_crops({{0, 0, 1000, 900}, {0, 0, 300, 300}}, {224, 112}), 2);  // a smaller view
  EXPECT_EQ(jpeg_reduction_for_crops({{0, 0, 4000, 4000}}, {224}), 8);
  EXPECT_THROW(jpeg_reduction_for_crops({{0, 0, 10, 10}}, {}), ShapeError);
  // An explicit reduction overrides the rule of the smallest possible crop.
  DecodeOptions options;
  options.reduction = 2;
  const std::vector<uint8_t> larger = testing::encode_image(gradient(300, 500), ".jpg");
  EXPECT_EQ(decode(larger, options).sizes(), (std::vector<int64_t>{150, 250, 3}));
}

// tests/fixtures/cmyk.jpg: a CMYK JPEG written by Pillow, left half RGB (200, 30, 40), right half
// (20, 120, 220).
TEST(ImageDecode, CmykJpegBecomesRgb) {
  const Image rgb = load_image(std::string(SLIPSTREAM_SOURCE_DIR) + "/tests/fixtures/cmyk.jpg");
  ASSERT_EQ(rgb.sizes(), (std::vector<int64_t>{16, 24, 3}));
  const at::Tensor left = rgb.slice(1, 2, 10).to(at::kFloat).mean(at::IntArrayRef{0, 1});
  const at::Tensor right = rgb.slice(1, 14, 22).to(at::kFloat).mean(at::IntArrayRef{0, 1});
  const float expected_left[] = {200, 30, 40}, expected_right[] = {20, 120, 220};
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(left[c].item<float>(), expected_left[c], 12) << "left, channel " << c;
    EXPECT_NEAR(right[c].item<float>(), expected_right[c], 12) << "right, channel " << c;
  }
}

TEST(ImageDecode, CorruptTruncatedOrMissingDataIsASampleError) {
  const std::vector<uint8_t> jpeg = testing::encode_image(gradient(64, 64), ".jpg");
  const std::vector<uint8_t> cut(jpeg.begin(), jpeg.begin() + static_cast<long>(jpeg.size() / 2));
  const std::vector<uint8_t> garbage = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<uint8_t> png = testing::encode_image(gradient(64, 64), ".png");
  png.resize(png.size() / 2);
  for (const std::vector<uint8_t>* bytes : std::vector<const std::vector<uint8_t>*>{&cut, &garbage, &png}) {
    try {
      decode(*bytes);
      ADD_FAILURE() << "decoded corrupt data of " << bytes->size() << " bytes";
    } catch (const SampleError& e) {
      EXPECT_EQ(e.source(), "test");
    }
  }
  EXPECT_THROW(decode_image(nullptr, 0, "empty", {}), SampleError);
  EXPECT_THROW(load_image("/nonexistent/photo.jpg"), SampleError);
}

}  // namespace
}  // namespace slipstream
