// A picture of what the pipeline feeds the model: one row per sample with the decoded original,
// each augmented view (un-normalised back to pixels) and the chosen caption underneath, as a PNG.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "slipstream/data/datasets/dataset.h"
#include "slipstream/data/sample_pipeline.h"

namespace slipstream {

struct PreviewOptions {
  std::vector<int64_t> indices;  // dataset samples to show, one row each
  uint64_t seed = 0;
  int64_t epoch = 0;
  int64_t tile = 224;            // height of every picture in a row
};

// Writes the grid to `png_path`; returns how many samples were skipped as unreadable (their
// rows are left out). Throws FileFormatError if the PNG cannot be written.
int64_t write_preview(const Dataset& dataset, const SamplePipeline& pipeline, const PreviewOptions& options,
                      const std::string& png_path);

// float [3, S, S] normalised with ImageNet statistics -> uint8 [S, S, 3] (inverse of to_normalized_chw).
Image denormalize_view(const at::Tensor& view);

}  // namespace slipstream
