#include "slipstream/tools/raw_embeddings.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "slipstream/data/image/augmentation.h"
#include "slipstream/data/image/image_decode.h"
#include "slipstream/data/text/clip_tokenizer.h"
#include "slipstream/eval/embeddings.h"
#include "slipstream/eval/model_preprocessing.h"

namespace slipstream {

RawEmbeddings embed_files(const EvaluationModel& loaded, const std::vector<std::string>& images,
                          const std::vector<std::string>& captions, const std::string& bpe_path) {
  ClipModelImpl& model = require_text_tower(loaded, "embeddings of captions");
  EvaluationMode evaluation(model);
  at::NoGradGuard no_grad;
  const VisionConfig& vision = model.config().vision;
  ViewSettings settings;
  settings.preprocessing = model_preprocessing(vision);
  RawEmbeddings out;
  std::vector<at::Tensor> views;
  for (const std::string& path : images) {
    views.push_back(apply_view(load_image(path), ViewRecipe::kEvalZeroShot, SampledView{}, vision.image_size, settings));
  }
  const int64_t embed_dim = model.config().embed_dim;
  out.image_embed = views.empty() ? at::empty({0, embed_dim}) : model.encode_image(at::stack(views)).to(at::kFloat);  // [N, E]
  if (captions.empty()) {
    out.text_embed = at::empty({0, embed_dim});
  } else {
    const ClipTokenizer tokenizer(bpe_path);
    const at::Tensor tokens = tokenizer.tokenize(captions, model.config().text.context_length);  // [M, L]
    out.text_embed = model.encode_text(tokens).to(at::kFloat);                                    // [M, E]
  }
  out.logit_scale = model.logit_scale.detach().exp().to(at::kFloat);
  return out;
}

}  // namespace slipstream
