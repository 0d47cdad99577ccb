#include "slipstream/eval/embeddings.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "slipstream/data/loader.h"
#include "slipstream/dist/process_group.h"
#include "slipstream/eval/model_preprocessing.h"
#include "slipstream/eval/result_cache.h"

namespace slipstream {

std::unique_ptr<Loader> make_evaluation_loader(DatasetPtr dataset, ViewRecipe recipe, const VisionConfig& vision,
                                               int64_t batch_size, int workers,
                                               const std::shared_ptr<ProcessGroup>& group) {
  PipelineOptions pipeline;
  pipeline.views = {recipe};
  pipeline.image_size = vision.image_size;
  pipeline.view_settings.preprocessing = model_preprocessing(vision);
  LoaderOptions options;
  options.batch_size = batch_size;
  options.workers = workers;
  options.shuffle = false;
  options.drop_last = false;
  if (group) {
    options.rank = group->rank();
    options.world_size = group->world_size();
  }
  auto loader = std::make_unique<Loader>(std::move(dataset), std::make_shared<const SamplePipeline>(pipeline), options);
  loader->start_epoch(0);
  return loader;
}

ImageEmbeddings embed_images(ClipModelImpl& model, DatasetPtr dataset, const at::Device& device, int64_t batch_size,
                             int workers, const std::shared_ptr<ProcessGroup>& group) {
  EvaluationMode evaluation(model);
  at::NoGradGuard no_grad;
  const auto loader = make_evaluation_loader(std::move(dataset), ViewRecipe::kEvalZeroShot, model.config().vision,
                                             batch_size, workers, group);
  std::vector<at::Tensor> features, labels;
  while (std::optional<Batch> batch = loader->next()) {
    at::Tensor f = model.encode_image(batch->views[0].to(device)).to(at::kFloat);  // [B, E]
    features.push_back((f / f.norm(2, -1, /*keepdim=*/true)).cpu());
    labels.push_back(batch->labels);
  }
  if (features.empty()) return {at::empty({0, model.config().embed_dim}), at::empty({0}, at::kLong)};
  return {at::cat(features), at::cat(labels)};
}

ImageFeatures extract_image_features(VisionTowerImpl& tower, DatasetPtr dataset, ViewRecipe recipe, const VisionConfig& vision,
                                     const at::Device& device, int64_t batch_size, int workers,
                                     const std::shared_ptr<ProcessGroup>& group) {
  EvaluationMode evaluation(tower);
  at::NoGradGuard no_grad;
  const auto loader = make_evaluation_loader(std::move(dataset), recipe, vision, batch_size, workers, group);
  std::vector<at::Tensor> features, labels;
  while (std::optional<Batch> batch = loader->next()) {
    features.push_back(tower.forward(batch->views[0].to(device)).to(at::kFloat).cpu());  // [B, D]
    labels.push_back(batch->labels);
  }
  if (features.empty()) return {at::empty({0, tower.output_width()}), at::empty({0}, at::kLong)};
  return {at::cat(features), at::cat(labels)};
}

ImageFeatures cached_image_features(VisionTowerImpl& tower, DatasetPtr dataset, ViewRecipe recipe, const VisionConfig& vision,
                                    const at::Device& device, int64_t batch_size, int workers,
                                    const std::string& weights_path, const std::string& dataset_key,
                                    const std::string& cache_dir, bool* from_cache) {
  if (from_cache) *from_cache = false;
  if (cache_dir.empty()) {
    return extract_image_features(tower, std::move(dataset), recipe, vision, device, batch_size, workers);
  }
  const int64_t size = dataset->size();
  std::string label = "features_" + dataset_key;
  for (char& c : label) c = (c == '/' || c == ' ') ? '_' : c;
  const std::string file = result_cache_file(cache_dir, weights_path, label,
                                             {dataset_key, view_recipe_name(recipe), std::to_string(vision.image_size),
                                              describe_preprocessing(vision),
                                              std::to_string(size), dataset->description()});
  if (const auto cached = read_result_cache(file, {"features", "labels"})) {
    const at::Tensor& features = cached->at("features");
    if (features.dim() == 2 && features.size(0) == size && features.size(1) == tower.output_width()) {
      if (from_cache) *from_cache = true;
      return {features, cached->at("labels")};
    }
  }
  ImageFeatures extracted =
      extract_image_features(tower, std::move(dataset), recipe, vision, device, batch_size, workers);
  write_result_cache(file, {{"features", extracted.features}, {"labels", extracted.labels}},
                     {{"dataset", dataset_key}, {"weights", weights_path}});
  return extracted;
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
