#include "slipstream/tools/preview.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

constexpr int kGap = 8;
constexpr int kLineHeight = 18;
constexpr double kFontScale = 0.45;

cv::Mat to_bgr(const Image& image) {
  const Image contiguous = image.contiguous();
  cv::Mat rgb(static_cast<int>(contiguous.size(0)), static_cast<int>(contiguous.size(1)), CV_8UC3,
              const_cast<uint8_t*>(contiguous.data_ptr<uint8_t>()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

// Greedy word wrap of `text` to lines no wider than `width` pixels.
std::vector<std::string> wrap(const std::string& text, int width) {
  std::vector<std::string> lines{""};
  std::string word;
  auto flush_word = [&]() {
    if (word.empty()) return;
    const std::string candidate = lines.back().empty() ? word : lines.back() + " " + word;
    int baseline = 0;
    if (cv::getTextSize(candidate, cv::FONT_HERSHEY_SIMPLEX, kFontScale, 1, &baseline).width > width && !lines.back().empty()) {
      lines.push_back(word);
    } else {
      lines.back() = candidate;
    }
    word.clear();
  };
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t') flush_word(); else word += c;
  }
  flush_word();
  return lines;
}

}  // namespace

Image denormalize_view(const at::Tensor& view) {
  const at::Tensor mean = at::tensor({kImageNetMean[0], kImageNetMean[1], kImageNetMean[2]}).view({3, 1, 1});
  const at::Tensor std = at::tensor({kImageNetStd[0], kImageNetStd[1], kImageNetStd[2]}).view({3, 1, 1});
  return (view.to(at::kFloat) * std + mean).mul(255.0).round().clamp(0, 255).to(at::kByte).permute({1, 2, 0}).contiguous();
}

int64_t write_preview(const Dataset& dataset, const SamplePipeline& pipeline, const PreviewOptions& options,
                      const std::string& png_path) {
  const int tile = static_cast<int>(options.tile);
  struct Row {
    std::vector<cv::Mat> pictures;
    std::vector<std::string> caption;
  };
  std::vector<Row> rows;
  int64_t skipped = 0;
  int width = 0;
  for (int64_t index : options.indices) {
    Row row;
    std::string caption;
    try {
      const RawSample sample = dataset.get(index);
      const Example example = pipeline(sample, options.seed, static_cast<uint64_t>(options.epoch), index);
      const cv::Mat original = to_bgr(pipeline.decode(sample));
      const int original_width = std::max(1, std::min(3 * tile, original.cols * tile / std::max(1, original.rows)));
      cv::Mat scaled;
      cv::resize(original, scaled, cv::Size(original_width, tile), 0, 0, cv::INTER_AREA);
      row.pictures.push_back(scaled);
      for (const at::Tensor& view : example.views) {
        cv::Mat picture = to_bgr(denormalize_view(view));
        cv::resize(picture, picture, cv::Size(tile, tile), 0, 0, cv::INTER_NEAREST);
        row.pictures.push_back(picture);
      }
      caption = "#" + std::to_string(index) + (example.label >= 0 ? " label " + std::to_string(example.label) : "") +
                (example.caption.empty() ? "" : ": " + example.caption);
    } catch (const SampleError&) {
      ++skipped;
      continue;
    }
    int row_width = 0;
    for (const cv::Mat& picture : row.pictures) row_width += picture.cols + kGap;
    width = std::max(width, row_width + kGap);
    row.caption = {caption};
    rows.push_back(std::move(row));
  }
  if (rows.empty()) throw Error("preview: none of the " + std::to_string(options.indices.size()) + " samples could be read");
  int height = kGap;
  for (Row& row : rows) {
    row.caption = wrap(row.caption[0], width - 2 * kGap);
    height += tile + static_cast<int>(row.caption.size()) * kLineHeight + 2 * kGap;
  }
  cv::Mat canvas(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  int y = kGap;
  for (const Row& row : rows) {
    int x = kGap;
    for (const cv::Mat& picture : row.pictures) {
      picture.copyTo(canvas(cv::Rect(x, y, picture.cols, picture.rows)));
      x += picture.cols + kGap;
    }
    y += tile + kLineHeight;
    for (const std::string& line : row.caption) {
      cv::putText(canvas, line, cv::Point(kGap, y - 4), cv::FONT_HERSHEY_SIMPLEX, kFontScale, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
      y += kLineHeight;
    }
    y += 2 * kGap - kLineHeight;
  }
  if (!cv::imwrite(png_path, canvas)) throw FileFormatError(png_path, "cannot write the preview PNG");
  return skipped;
}

}  // namespace slipstream
