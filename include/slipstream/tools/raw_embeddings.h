// Embeddings of image files and captions as a CLIP-family model computes them, for feature
// extraction and for checking an exported model against the library it went to
// (`slip_tools embed`): each image through the model's own zero-shot evaluation transform
// (vision.image_* of its config), each caption through CLIP's tokenizer at the model's context.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "slipstream/eval/evaluation_model.h"

namespace slipstream {

struct RawEmbeddings {
  at::Tensor image_embed;  // [N, E] float, not normalised (encode_image), in file order
  at::Tensor text_embed;   // [M, E] float, not normalised (encode_text), in caption order
  at::Tensor logit_scale;  // [] float, exp of the learned scale
};

// FileFormatError naming an image that cannot be read; ConfigError for a model without a text tower.
RawEmbeddings embed_files(const EvaluationModel& model, const std::vector<std::string>& images,
                          const std::vector<std::string>& captions, const std::string& bpe_path);

}  // namespace slipstream
