// The flags that replace a model's recorded image preprocessing, with open_clip_train's names,
// shared by slip_pretrain, eval_zeroshot, eval_retrieval, linear_probe and finetune.
#pragma once
#include <CLI/CLI.hpp>

#include "slipstream/models/model_config.h"

namespace slipstream {

inline void add_preprocessing_flags(CLI::App& app, PreprocessingOverrides& o) {
  const char* group = "Image preprocessing (default: the model's recorded values)";
  app.add_option("--image-mean", o.image_mean, "Normalisation mean, R G B")->expected(3)->group(group);
  app.add_option("--image-std", o.image_std, "Normalisation std, R G B")->expected(3)->group(group);
  app.add_option("--image-interpolation", o.image_interpolation, "Evaluation resize filter: bilinear or bicubic")
      ->group(group);
  app.add_option("--image-resize-mode", o.image_resize_mode,
                 "Evaluation resize: shortest (short side, then centre crop) or squash")->group(group);
  app.add_option("--image-crop-fraction", o.image_crop_fraction,
                 "Zero-shot evaluation: resize to size / fraction, then crop (1: no margin)")->group(group);
}

}  // namespace slipstream
