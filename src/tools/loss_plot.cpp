#include "slipstream/tools/loss_plot.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

struct Series {
  std::string label;
  std::vector<double> steps, values;
};

Series read_series(const std::string& label, const std::string& path, const std::string& metric) {
  std::ifstream in(path);
  if (!in) throw FileFormatError(path, "cannot open");
  Series series{label, {}, {}};
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("step") || !j.contains(metric) || !j[metric].is_number()) continue;
    const double value = j[metric].get<double>();
    if (!std::isfinite(value)) continue;
    series.steps.push_back(j["step"].get<double>());
    series.values.push_back(value);
  }
  if (series.values.empty()) throw FileFormatError(path, "no line with \"step\" and \"" + metric + "\"");
  return series;
}

std::string tick_text(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3g", value);
  return text;
}

}  // namespace

void write_loss_plot(const LossPlotOptions& options) {
  if (options.series.empty()) throw ConfigError("plot-loss: no steps.jsonl given");
  std::vector<Series> all;
  double x_max = 1.0, y_min = std::numeric_limits<double>::infinity(), y_max = -y_min;
  for (const auto& [label, path] : options.series) {
    all.push_back(read_series(label, path, options.metric));
    x_max = std::max(x_max, *std::max_element(all.back().steps.begin(), all.back().steps.end()));
    y_min = std::min(y_min, *std::min_element(all.back().values.begin(), all.back().values.end()));
    y_max = std::max(y_max, *std::max_element(all.back().values.begin(), all.back().values.end()));
  }
  if (y_max - y_min < 1e-12) y_max = y_min + 1.0;
  const int w = options.width, h = options.height, left = 70, right = 20, top = 40, bottom = 50;
  cv::Mat canvas(h, w, CV_8UC3, cv::Scalar(255, 255, 255));
  const auto px = [&](double step) { return left + static_cast<int>((w - left - right) * step / x_max); };
  const auto py = [&](double value) { return h - bottom - static_cast<int>((h - top - bottom) * (value - y_min) / (y_max - y_min)); };
  const cv::Scalar axis(60, 60, 60), grid(225, 225, 225);
  for (int t = 0; t <= 5; ++t) {
    const double value = y_min + (y_max - y_min) * t / 5.0, step = x_max * t / 5.0;
    cv::line(canvas, {left, py(value)}, {w - right, py(value)}, grid, 1);
    cv::putText(canvas, tick_text(value), {5, py(value) + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.4, axis, 1, cv::LINE_AA);
    const std::string step_text = std::to_string(std::llround(step));
    const int shift = t == 5 ? 8 * static_cast<int>(step_text.size()) : 4 * static_cast<int>(step_text.size());
    cv::putText(canvas, step_text, {px(step) - shift, h - bottom + 18}, cv::FONT_HERSHEY_SIMPLEX, 0.4, axis, 1, cv::LINE_AA);
  }
  cv::rectangle(canvas, {left, top}, {w - right, h - bottom}, axis, 1);
  cv::putText(canvas, "optimizer step", {w / 2 - 50, h - 12}, cv::FONT_HERSHEY_SIMPLEX, 0.5, axis, 1, cv::LINE_AA);
  cv::putText(canvas, options.metric, {left, top - 12}, cv::FONT_HERSHEY_SIMPLEX, 0.6, axis, 1, cv::LINE_AA);
  const cv::Scalar palette[] = {{200, 90, 30}, {40, 40, 210}, {40, 150, 40}, {160, 40, 160}, {30, 150, 200}};  // BGR
  for (size_t s = 0; s < all.size(); ++s) {
    const Series& series = all[s];
    const cv::Scalar colour = palette[s % 5];
    const cv::Scalar faint = colour * 0.25 + cv::Scalar(255, 255, 255) * 0.75;
    const size_t n = series.values.size(), window = std::max<size_t>(1, n / 40);
    std::vector<cv::Point> raw, smooth;
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) {
      raw.emplace_back(px(series.steps[i]), py(series.values[i]));
      sum += series.values[i];
      if (i >= window) sum -= series.values[i - window];
      smooth.emplace_back(px(series.steps[i]), py(sum / static_cast<double>(std::min(i + 1, window))));
    }
    cv::polylines(canvas, raw, false, faint, 1, cv::LINE_AA);
    cv::polylines(canvas, smooth, false, colour, 2, cv::LINE_AA);
    const int y = top + 18 + 20 * static_cast<int>(s);
    cv::line(canvas, {w - right - 190, y - 4}, {w - right - 165, y - 4}, colour, 2, cv::LINE_AA);
    cv::putText(canvas, series.label, {w - right - 158, y}, cv::FONT_HERSHEY_SIMPLEX, 0.45, axis, 1, cv::LINE_AA);
  }
  if (!cv::imwrite(options.output, canvas)) throw FileFormatError(options.output, "cannot write the PNG");
}

}  // namespace slipstream
