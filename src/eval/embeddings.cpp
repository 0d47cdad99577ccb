#include "slipstream/eval/embeddings.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "slipstream/data/loader.h"
#include "slipstream/dist/process_group.h"

namespace slipstream {
namespace {


}  // namespace

ImageEmbeddings embed_images(ClipModelImpl& model, DatasetPtr dataset, const at::Device& device, int64_t batch_size,
                             int workers, const std::shared_ptr<ProcessGroup>& group) {
  EvaluationMode evaluation(model);
  at::NoGradGuard no_grad;
  PipelineOptions pipeline;
  pipeline.views = {ViewRecipe::kEvalZeroShot};
  pipeline.image_size = model.config().vision.image_size;
  LoaderOptions options;
  options.batch_size = batch_size;
  options.workers = workers;
  options.shuffle = false;
  options.drop_last = false;
  if (group) {
    options.rank = group->rank();
    options.world_size = group->world_size();
  }
  Loader loader(std::move(dataset), std::make_shared<const SamplePipeline>(pipeline), options);
  loader.start_epoch(0);
  std::vector<at::Tensor> features, labels;
  while (std::optional<Batch> batch = loader.next()) {
    at::Tensor f = model.encode_image(batch->views[0].to(device)).to(at::kFloat);  // [B, E]
    features.push_back((f / f.norm(2, -1, /*keepdim=*/true)).cpu());
    labels.push_back(batch->labels);
  }
  if (features.empty()) return {at::empty({0, model.config().embed_dim}), at::empty({0}, at::kLong)};
  return {at::cat(features), at::cat(labels)};
}

at::Tensor embed_captions(ClipModelImpl& model, const ClipTokenizer& tokenizer, const std::vector<std::string>& captions,
                          const at::Device& device, int64_t batch_size) {
  EvaluationMode evaluation(model);
  at::NoGradGuard no_grad;
  const int64_t context = model.config().text.context_length;
  std::vector<at::Tensor> features;
  for (size_t start = 0; start < captions.size(); start += static_cast<size_t>(batch_size)) {
    const std::vector<std::string> chunk(captions.begin() + static_cast<std::ptrdiff_t>(start),
                                         captions.begin() + static_cast<std::ptrdiff_t>(std::min(captions.size(), start + static_cast<size_t>(batch_size))));
    at::Tensor f = model.encode_text(tokenizer.tokenize(chunk, context).to(device)).to(at::kFloat);  // [B, E]
    features.push_back((f / f.norm(2, -1, /*keepdim=*/true)).cpu());
  }
  if (features.empty()) return at::empty({0, model.config().embed_dim});
  return at::cat(features);
}

}  // namespace slipstream
