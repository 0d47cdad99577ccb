// SLIP's zero-shot classification (main.py validate_zeroshot, eval_zeroshot.py): a class's
// embedding is the mean of its prompts' L2-normalised text embeddings (every template x every
// synonym of its name), re-normalised; an image's logits are the cosine similarities of its
// normalised embedding with those of the classes.
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "slipstream/data/text/clip_tokenizer.h"
#include "slipstream/data/datasets/dataset.h"
#include "slipstream/models/contrastive_models.h"

namespace slipstream {

class ProcessGroup;

// A dataset's prompt templates ("a photo of a {}.") from SLIP's templates.json, and its class
// names from labels.json (a name, or a list of synonyms). ConfigError names the file and entry.
std::vector<std::string> load_prompt_templates(const std::string& templates_json, const std::string& dataset);
std::vector<std::vector<std::string>> load_class_names(const std::string& labels_json, const std::string& dataset);

// Python's template.format(name) for the templates SLIP ships: each "{}" becomes the name.
std::string format_prompt(const std::string& prompt_template, const std::string& name);

// [classes, embed_dim], rows unit-norm. Runs the text tower in evaluation mode without gradient.
at::Tensor zero_shot_classifier(ClipModelImpl& model, const ClipTokenizer& tokenizer,
                                const std::vector<std::vector<std::string>>& class_names,
                                const std::vector<std::string>& templates, const at::Device& device);

// zero_shot_classifier kept on disk: under `cache_dir`, keyed by the weights file (path, size,
// modification time), the dataset name, its templates and its class names, so a repeated run skips
// the text tower. `from_cache` tells which happened. An empty cache_dir computes every time.
at::Tensor cached_zero_shot_classifier(ClipModelImpl& model, const ClipTokenizer& tokenizer,
                                       const std::vector<std::vector<std::string>>& class_names,
                                       const std::vector<std::string>& templates, const at::Device& device,
                                       const std::string& weights_path, const std::string& dataset,
                                       const std::string& cache_dir, bool* from_cache = nullptr);

// Every image's cosine logits against the classifier, in dataset order (one process).
struct ZeroShotLogits {
  at::Tensor logits;  // [N, classes] float
  at::Tensor labels;  // [N] int64
};
ZeroShotLogits zero_shot_logits(ClipModelImpl& model, const at::Tensor& classifier, DatasetPtr dataset,
                                const at::Device& device, int64_t batch_size, int workers);

struct ZeroShotAccuracy {
  double top1 = 0.0;  // percent
  double top5 = 0.0;  // percent (top-k with k = min(5, classes))
  int64_t samples = 0;
};

// Top-1 / top-5 of the classifier on a labelled dataset with SLIP's zero-shot eval transform
// (Resize short side + CenterCrop to the model's image size). With a process group, each rank
// reads its part and the counts are summed over ranks.
ZeroShotAccuracy evaluate_zero_shot(ClipModelImpl& model, const at::Tensor& classifier, DatasetPtr dataset,
                                    const at::Device& device, int64_t batch_size, int workers,
                                    const std::shared_ptr<ProcessGroup>& group = nullptr);

}  // namespace slipstream
