// Generated samples for throughput runs with no disk: smooth random RGB images (decoded already, so
// the pipeline's crop/resize/jitter work is real) and captions drawn from a small vocabulary, all a
// function of the sample index.
#pragma once
#include "slipstream/data/datasets/dataset.h"

namespace slipstream {

class SyntheticDataset : public Dataset {
 public:
  SyntheticDataset(int64_t size, int64_t image_size = 256, int64_t classes = 1000);
  int64_t size() const override { return size_; }
  RawSample get(int64_t index) const override;
  std::string description() const override;

 private:
  int64_t size_, image_size_, classes_;
};

}  // namespace slipstream
