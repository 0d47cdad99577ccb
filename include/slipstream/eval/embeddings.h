// A trained CLIP-family model's embeddings for evaluation, L2-normalised, in input order: images
// through the zero-shot eval transform with the model's own preprocessing (SLIP's: bilinear
// Resize + CenterCrop, ImageNet mean/std; see vision.image_* in the model config), captions
// through CLIP's tokenizer.
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "slipstream/data/image/augmentation.h"
#include "slipstream/data/text/clip_tokenizer.h"
#include "slipstream/data/datasets/dataset.h"
#include "slipstream/data/loader.h"
#include "slipstream/models/contrastive_models.h"

namespace slipstream {

class ProcessGroup;

// Puts a model in evaluation mode for a scope and restores its training mode afterwards.
class EvaluationMode {
 public:
  explicit EvaluationMode(torch::nn::Module& model) : model_(model), was_training_(model.is_training()) { model_.eval(); }
  ~EvaluationMode() { model_.train(was_training_); }
  EvaluationMode(const EvaluationMode&) = delete;
  EvaluationMode& operator=(const EvaluationMode&) = delete;

 private:
  torch::nn::Module& model_;
  bool was_training_;
};

// A loader over a labelled dataset in dataset order with every sample once (the last batch may be
// smaller) through one view recipe at the tower's size and with its preprocessing; with a process
// group, this rank's part.
std::unique_ptr<Loader> make_evaluation_loader(DatasetPtr dataset, ViewRecipe recipe, const VisionConfig& vision,
                                               int64_t batch_size, int workers,
                                               const std::shared_ptr<ProcessGroup>& group = nullptr);

struct ImageEmbeddings {
  at::Tensor features;  // [N, E] float, unit rows, on the CPU
  at::Tensor labels;    // [N] int64, the dataset's labels
};
// With a process group, this rank's part of the dataset (the loader's split by rank).
ImageEmbeddings embed_images(ClipModelImpl& model, DatasetPtr dataset, const at::Device& device, int64_t batch_size,
                             int workers, const std::shared_ptr<ProcessGroup>& group = nullptr);

// The image tower's pooled features (the input of the projection, not normalised: what a linear
// probe reads) through `recipe`, in dataset order; with a process group, this rank's part.
struct ImageFeatures {
  at::Tensor features;  // [N, D] float, on the CPU
  at::Tensor labels;    // [N] int64
};
ImageFeatures extract_image_features(VisionTowerImpl& tower, DatasetPtr dataset, ViewRecipe recipe, const VisionConfig& vision,
                                     const at::Device& device, int64_t batch_size, int workers,
                                     const std::shared_ptr<ProcessGroup>& group = nullptr);

// extract_image_features kept on disk under `cache_dir` (see result_cache.h), keyed by the weights
// file, `dataset_key` (e.g. "imagenet/train") and the recipe. One process. Empty cache_dir: no cache.
ImageFeatures cached_image_features(VisionTowerImpl& tower, DatasetPtr dataset, ViewRecipe recipe, const VisionConfig& vision,
                                    const at::Device& device, int64_t batch_size, int workers,
                                    const std::string& weights_path, const std::string& dataset_key,
                                    const std::string& cache_dir, bool* from_cache = nullptr);

// [N, E] float, unit rows, on the CPU.
at::Tensor embed_captions(ClipModelImpl& model, const ClipTokenizer& tokenizer, const std::vector<std::string>& captions,
                          const at::Device& device, int64_t batch_size);

}  // namespace slipstream
