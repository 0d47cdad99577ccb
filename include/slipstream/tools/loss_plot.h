// Training curves as a PNG (OpenCV drawing): one series per steps.jsonl file that slip_pretrain
// writes (one JSON object per optimizer step: "step", "loss", ...), the raw values faint and a
// moving average on top, with axes, ticks and a legend.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace slipstream {

struct LossPlotOptions {
  std::vector<std::pair<std::string, std::string>> series;  // (legend label, steps.jsonl path)
  std::string metric = "loss";
  std::string output = "loss.png";
  int width = 960, height = 540;
};

// Throws FileFormatError naming the file when one has no line with "step" and the metric, or the
// PNG cannot be written.
void write_loss_plot(const LossPlotOptions& options);

}  // namespace slipstream
