// A model's preprocessing as the data pipeline applies it: the image tower's recorded mean, std,
// interpolation, resize rule and crop fraction (models/model_config.h) as a Preprocessing
// (data/image/preprocessing.h). The lowest layer that sees both the models and the data.
#pragma once
#include "slipstream/data/image/preprocessing.h"
#include "slipstream/models/model_config.h"

namespace slipstream {

Preprocessing model_preprocessing(const VisionConfig& vision);

// One line for the logs: "mean (0.481, 0.458, 0.408), std (0.269, 0.261, 0.276), bicubic, shortest, crop 1".
std::string describe_preprocessing(const VisionConfig& vision);

}  // namespace slipstream
