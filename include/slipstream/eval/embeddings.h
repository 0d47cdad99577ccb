// A trained CLIP-family model's embeddings for evaluation, L2-normalised, in input order: images
// through SLIP's zero-shot eval transform (Resize + CenterCrop), captions through CLIP's tokenizer.
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "slipstream/data/clip_tokenizer.h"
#include "slipstream/data/datasets/dataset.h"
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

struct ImageEmbeddings {
  at::Tensor features;  // [N, E] float, unit rows, on the CPU
  at::Tensor labels;    // [N] int64, the dataset's labels
};
// With a process group, this rank's part of the dataset (the loader's split by rank).
ImageEmbeddings embed_images(ClipModelImpl& model, DatasetPtr dataset, const at::Device& device, int64_t batch_size,
                             int workers, const std::shared_ptr<ProcessGroup>& group = nullptr);

// [N, E] float, unit rows, on the CPU.
at::Tensor embed_captions(ClipModelImpl& model, const ClipTokenizer& tokenizer, const std::vector<std::string>& captions,
                          const at::Device& device, int64_t batch_size);

}  // namespace slipstream
