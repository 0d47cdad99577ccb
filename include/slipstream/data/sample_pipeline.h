// What happens to one raw sample before batching: decode (a JPEG at 1/2, 1/4 or 1/8 size when
// every view's crop, drawn on the full-size image first, still spans its output size), the views
// of the recipes (SLIP: clip + two simclr views), and the tokens of one caption chosen at random,
// every draw from sample_rng(seed, epoch, index, stream) so the result does not depend on which
// thread or process handles the sample.
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "slipstream/data/image/augmentation.h"
#include "slipstream/data/datasets/dataset.h"

namespace slipstream {

// A caption's framed token ids (SOT ... EOT, truncated to the context), e.g. ClipTokenizer::frame.
using CaptionTokenizer = std::function<std::vector<int64_t>(const std::string&)>;
// A second view of a caption (DeCLIP: EasyDataAugmentation), drawing from the sample's generator.
using CaptionAugmenter = std::function<std::string(const std::string&, std::mt19937_64&)>;

struct PipelineOptions {
  std::vector<ViewRecipe> views;  // one output tensor per entry
  int64_t image_size = 224;
  std::vector<int64_t> view_sizes;  // each view's side (at most image_size, the decode target), one per view; empty: image_size
  CaptionTokenizer tokenizer;     // empty: captions are not tokenized
  CaptionAugmenter caption_view;  // set (with a tokenizer): Example::tokens_aug holds the augmented caption's ids
  int64_t context_length = 77;
  bool reduced_decode = true;     // JPEGs decoded at 1/2, 1/4 or 1/8 when the drawn crops (or the smallest possible) allow
  ViewSettings view_settings;     // the model's preprocessing, --aug-cfg, the finetune views' RandAugment / RandomErasing
};

struct Example {
  std::vector<at::Tensor> views;  // view v: float [3, S_v, S_v], S_v = view_sizes[v] or image_size
  std::vector<int64_t> tokens;    // framed ids, unpadded (empty without a tokenizer)
  std::vector<int64_t> tokens_aug;  // the caption view's framed ids (empty without caption_view)
  std::string caption;            // the chosen caption ("" when the sample has none)
  std::string source;             // the raw sample's source
  int64_t label = -1;
};

class SamplePipeline {
 public:
  explicit SamplePipeline(PipelineOptions options);
  const PipelineOptions& options() const { return options_; }

  // Throws SampleError when the image cannot be decoded.
  Example operator()(const RawSample& sample, uint64_t seed, uint64_t epoch, int64_t index) const;
  // The image the views are cut from: the sample's decoded image, or its bytes decoded (a JPEG
  // reduced as far as the smallest crop the recipes can draw allows).
  Image decode(const RawSample& sample) const;

  // The stream of sample_rng that draws the caption choice; view v uses stream 1 + v.
  static constexpr uint64_t kCaptionStream = 0;
  static constexpr uint64_t kCaptionViewStream = uint64_t{1} << 20;  // the caption view's draws

 private:
  int64_t view_size(size_t view) const;
  // Every view is a random crop: a JPEG's views are drawn before decoding and pick its reduction.
  bool crops_choose_reduction() const;
  // (height, width) of an encoded JPEG, upright; nullopt for anything else.
  std::optional<std::pair<int64_t, int64_t>> encoded_jpeg_size(const RawSample& sample) const;
  // The largest JPEG reduction every view's crop allows (jpeg_reduction_for_crops).
  int reduction_for(const std::vector<SampledView>& views) const;
  Image decode_reduced(const RawSample& sample, int reduction) const;

  PipelineOptions options_;
};

}  // namespace slipstream
