#include "data/encode_image.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace slipstream::testing {

std::vector<uint8_t> encode_image(const Image& image, const std::string& extension, int jpeg_quality) {
  cv::Mat rgb(static_cast<int>(image.size(0)), static_cast<int>(image.size(1)), CV_8UC3,
              const_cast<uint8_t*>(image.data_ptr<uint8_t>()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::vector<uint8_t> bytes;
  if (!cv::imencode(extension, bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, jpeg_quality})) {
    throw std::runtime_error("cannot encode " + extension);
  }
  return bytes;
}

}  // namespace slipstream::testing
