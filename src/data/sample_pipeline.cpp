#include "slipstream/data/sample_pipeline.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "slipstream/core/error.h"
#ifdef SLIPSTREAM_WITH_OPENCV
#include "slipstream/data/image/image_decode.h"
#endif

namespace slipstream {

SamplePipeline::SamplePipeline(PipelineOptions options) : options_(std::move(options)) {
  if (options_.image_size <= 0) throw ConfigError("image size must be positive");
  if (options_.tokenizer && options_.context_length < 2) throw ConfigError("context length must be at least 2");
  if (!options_.view_sizes.empty() && options_.view_sizes.size() != options_.views.size()) {
    throw ConfigError("view sizes: " + std::to_string(options_.view_sizes.size()) + " given for " +
                      std::to_string(options_.views.size()) + " views");
  }
  for (int64_t size : options_.view_sizes) {
    if (size <= 0 || size > options_.image_size) {
      throw ConfigError("view size " + std::to_string(size) + " must be in [1, image size " + std::to_string(options_.image_size) + "]");
    }
  }
  for (ViewRecipe recipe : options_.views) {
    if (recipe != ViewRecipe::kFinetune) continue;
    // the finetune settings fail here rather than at the first sample
    const FinetuneAugmentation& finetune = options_.view_settings.finetune;
    if (!finetune.auto_augment.empty()) parse_rand_augment(finetune.auto_augment);
    parse_erasing_mode(finetune.random_erasing_mode);
    if (!(finetune.random_erasing >= 0.0 && finetune.random_erasing <= 1.0)) {
      throw ConfigError("random erasing probability must be in [0, 1], got " + std::to_string(finetune.random_erasing));
    }
  }
}

Image SamplePipeline::decode(const RawSample& sample) const {
  if (sample.image.defined()) return sample.image;
#ifdef SLIPSTREAM_WITH_OPENCV
  DecodeOptions decode_options;
  if (options_.reduced_decode && !options_.views.empty()) {
    decode_options.min_crop_scale = 1.0;
    decode_options.target_size = options_.image_size;
    const ViewSettings& settings = options_.view_settings;
    for (ViewRecipe recipe : options_.views) {
      decode_options.min_crop_scale = std::min(decode_options.min_crop_scale, min_crop_scale(recipe, settings));
      // the evaluation recipes resize the short side to size / crop fraction before cropping
      if (recipe == ViewRecipe::kEvalLinear) {
        decode_options.target_size = std::max(decode_options.target_size, resize_target(options_.image_size, kLinearEvalCropFraction));
      } else if (recipe == ViewRecipe::kEvalZeroShot) {
        decode_options.target_size = std::max(decode_options.target_size,
                                              resize_target(options_.image_size, settings.preprocessing.crop_fraction));
      }
    }
  }
  return decode_image(reinterpret_cast<const uint8_t*>(sample.encoded.data()), sample.encoded.size(), sample.source,
                      decode_options);
#else
  throw ConfigError(sample.source + ": this build has no image decoding (OpenCV was not found at configure time)");
#endif
}

Example SamplePipeline::operator()(const RawSample& sample, uint64_t seed, uint64_t epoch, int64_t index) const {
  Example example;
  example.label = sample.label;
  example.source = sample.source;
  if (!sample.captions.empty()) {
    std::mt19937_64 rng = sample_rng(seed, epoch, static_cast<uint64_t>(index), kCaptionStream);
    example.caption = sample.captions[std::uniform_int_distribution<size_t>(0, sample.captions.size() - 1)(rng)];
  }
  if (options_.tokenizer) example.tokens = options_.tokenizer(example.caption);
  if (options_.tokenizer && options_.caption_view) {
    std::mt19937_64 rng = sample_rng(seed, epoch, static_cast<uint64_t>(index), kCaptionViewStream);
    example.tokens_aug = options_.tokenizer(options_.caption_view(example.caption, rng));
  }
  if (options_.views.empty()) return example;
  // Each view's draws from its own stream, on the image's upright size: a JPEG's from its header,
  // so the crops can choose the decode's reduction, anything else's once decoded.
  auto draw_views = [&](int64_t height, int64_t width) {
    std::vector<SampledView> drawn;
    for (size_t v = 0; v < options_.views.size(); ++v) {
      std::mt19937_64 rng = sample_rng(seed, epoch, static_cast<uint64_t>(index), 1 + v);
      drawn.push_back(sample_view(options_.views[v], height, width, rng, options_.view_settings, view_size(v)));
    }
    return drawn;
  };
  Image image;
  std::vector<SampledView> views;
  const auto upright = crops_choose_reduction() ? encoded_jpeg_size(sample) : std::nullopt;
  if (upright) {
    const auto [height, width] = *upright;
    views = draw_views(height, width);
    const int reduction = reduction_for(views);
    image = decode_reduced(sample, reduction);
    if (image.size(0) == (height + reduction - 1) / reduction && image.size(1) == (width + reduction - 1) / reduction) {
      for (SampledView& view : views) view.reduction = reduction;  // each crop's edges divided on the reduced image
    } else {  // a decoder that sized it otherwise (an unusual orientation or colour space): the full image
      image = decode(sample);
      views = draw_views(image.size(0), image.size(1));
    }
  } else {
    image = decode(sample);
    views = draw_views(image.size(0), image.size(1));
  }
  for (size_t v = 0; v < views.size(); ++v) {
    example.views.push_back(apply_view(image, options_.views[v], views[v], view_size(v), options_.view_settings));  // [3, S_v, S_v]
  }
  return example;
}

int64_t SamplePipeline::view_size(size_t view) const {
  return options_.view_sizes.empty() ? options_.image_size : options_.view_sizes[view];
}

bool SamplePipeline::crops_choose_reduction() const {
  if (!options_.reduced_decode) return false;
  return std::all_of(options_.views.begin(), options_.views.end(), draws_random_crop);
}

std::optional<std::pair<int64_t, int64_t>> SamplePipeline::encoded_jpeg_size(const RawSample& sample) const {
#ifdef SLIPSTREAM_WITH_OPENCV
  if (sample.image.defined()) return std::nullopt;
  const auto size = jpeg_upright_size(reinterpret_cast<const uint8_t*>(sample.encoded.data()), sample.encoded.size());
  if (!size || size->first <= 0 || size->second <= 0) return std::nullopt;  // decode() names what is wrong
  return size;
#else
  return std::nullopt;
#endif
}

int SamplePipeline::reduction_for(const std::vector<SampledView>& views) const {
#ifdef SLIPSTREAM_WITH_OPENCV
  std::vector<CropBox> crops;
  std::vector<int64_t> sizes;
  for (size_t v = 0; v < views.size(); ++v) {
    crops.push_back(views[v].crop);
    sizes.push_back(view_size(v));
  }
  return jpeg_reduction_for_crops(crops, sizes);
#else
  return 1;
#endif
}

Image SamplePipeline::decode_reduced(const RawSample& sample, int reduction) const {
#ifdef SLIPSTREAM_WITH_OPENCV
  DecodeOptions decode_options;
  decode_options.reduction = reduction;
  return decode_image(reinterpret_cast<const uint8_t*>(sample.encoded.data()), sample.encoded.size(), sample.source,
                      decode_options);
#else
  return decode(sample);
#endif
}

}  // namespace slipstream
