// What every corpus and evaluation dataset gives the loader: random access to raw samples (an
// encoded image or an already decoded one, the candidate captions or a label), from any thread.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "slipstream/data/image/image.h"

namespace slipstream {

struct RawSample {
  std::string source;                 // where it came from: a path, "shard.tar:member", "NNN.zip:NNN.jpg"
  std::string encoded;                // encoded image bytes (JPEG, PNG, ...); empty when `image` is set
  Image image;                        // an already decoded uint8 [H, W, 3] image (CIFAR, MNIST, STL-10, synthetic)
  std::vector<std::string> captions;  // candidate captions; the pipeline picks one per epoch, as SLIP does
  int64_t label = -1;                 // class index, for labelled datasets
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // Sample `index` (0 <= index < size()), safe to call from many threads at once. Throws
  // SampleError when this one sample cannot be read (the loader skips, counts and replaces it).
  virtual RawSample get(int64_t index) const = 0;
  // Sizes of the runs of consecutive indices stored together (a WebDataset's shards), summing to
  // size(); empty when storage has no such grouping. The epoch plan keeps a shard's samples together.
  virtual std::vector<int64_t> shard_sizes() const { return {}; }
  // One line for logs: "cc3m: 3318333 samples from /data/cc3m".
  virtual std::string description() const = 0;
  // Class names, for labelled datasets (imagefolder's folder names, CIFAR's classes); else empty.
  virtual std::vector<std::string> class_names() const { return {}; }
};

using DatasetPtr = std::shared_ptr<const Dataset>;

}  // namespace slipstream
