#include "slipstream/eval/zero_shot.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

#include "slipstream/core/error.h"
#include "slipstream/dist/process_group.h"
#include "slipstream/eval/embeddings.h"
#include "slipstream/eval/result_cache.h"
#include "slipstream/eval/zero_shot_metrics.h"

namespace slipstream {
namespace {

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot open");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw ConfigError(path + ": not a JSON object");
  return j;
}

const nlohmann::json& entry(const nlohmann::json& j, const std::string& path, const std::string& dataset) {
  if (!j.contains(dataset) || !j[dataset].is_array() || j[dataset].empty()) {
    throw ConfigError(path + ": no list for dataset '" + dataset + "'");
  }
  return j[dataset];
}


}  // namespace

std::vector<std::string> load_prompt_templates(const std::string& templates_json, const std::string& dataset) {
  const nlohmann::json j = read_json(templates_json);
  std::vector<std::string> templates;
  for (const auto& item : entry(j, templates_json, dataset)) {
    if (!item.is_string()) throw ConfigError(templates_json + ": '" + dataset + "' holds a template that is not a string");
    templates.push_back(item.get<std::string>());
  }
  return templates;
}

std::vector<std::vector<std::string>> load_class_names(const std::string& labels_json, const std::string& dataset) {
  const nlohmann::json j = read_json(labels_json);
  std::vector<std::vector<std::string>> classes;
  for (const auto& item : entry(j, labels_json, dataset)) {
    std::vector<std::string> synonyms;
    if (item.is_string()) synonyms.push_back(item.get<std::string>());
    if (item.is_array()) {
      for (const auto& name : item) {
        if (name.is_string()) synonyms.push_back(name.get<std::string>());
      }
    }
    if (synonyms.empty() || synonyms.size() != (item.is_array() ? item.size() : 1)) {
      throw ConfigError(labels_json + ": class " + std::to_string(classes.size()) + " of '" + dataset +
                        "' is neither a name nor a list of names");
    }
    classes.push_back(std::move(synonyms));
  }
  return classes;
}

std::string format_prompt(const std::string& prompt_template, const std::string& name) {
  std::string out;
  size_t start = 0, found;
  while ((found = prompt_template.find("{}", start)) != std::string::npos) {
    out += prompt_template.substr(start, found - start) + name;
    start = found + 2;
  }
  return out + prompt_template.substr(start);
}

at::Tensor zero_shot_classifier(ClipModelImpl& model, const ClipTokenizer& tokenizer,
                                const std::vector<std::vector<std::string>>& class_names,
                                const std::vector<std::string>& templates, const at::Device& device) {
  if (class_names.empty() || templates.empty()) throw ConfigError("zero-shot classifier: no classes or no templates");
  EvaluationMode evaluation(model);
  at::NoGradGuard no_grad;
  const int64_t context = model.config().text.context_length;
  std::vector<at::Tensor> rows;
  for (const std::vector<std::string>& synonyms : class_names) {
    std::vector<std::string> prompts;
    for (const std::string& name : synonyms) {
      for (const std::string& prompt_template : templates) prompts.push_back(format_prompt(prompt_template, name));
    }
    at::Tensor embeddings = model.encode_text(tokenizer.tokenize(prompts, context).to(device)).to(at::kFloat);  // [P, E]
    embeddings = embeddings / embeddings.norm(2, -1, /*keepdim=*/true);
    at::Tensor mean = embeddings.mean(0);
    rows.push_back(mean / mean.norm());
  }
  return at::stack(rows);  // [C, E]
}

namespace {

}  // namespace

at::Tensor cached_zero_shot_classifier(ClipModelImpl& model, const ClipTokenizer& tokenizer,
                                       const std::vector<std::vector<std::string>>& class_names,
                                       const std::vector<std::string>& templates, const at::Device& device,
                                       const std::string& weights_path, const std::string& dataset,
                                       const std::string& cache_dir, bool* from_cache) {
  if (from_cache) *from_cache = false;
  if (cache_dir.empty()) return zero_shot_classifier(model, tokenizer, class_names, templates, device);
  std::vector<std::string> inputs = {dataset};
  inputs.insert(inputs.end(), templates.begin(), templates.end());
  for (const auto& synonyms : class_names) {
    inputs.insert(inputs.end(), synonyms.begin(), synonyms.end());
    inputs.push_back("|");
  }
  const std::string file = result_cache_file(cache_dir, weights_path, dataset, inputs);
  if (const auto cached = read_result_cache(file, {"classifier"})) {
    const at::Tensor& classifier = cached->at("classifier");
    if (classifier.size(0) == static_cast<int64_t>(class_names.size())) {
      if (from_cache) *from_cache = true;
      return classifier.to(device, at::kFloat);
    }
  }
  at::Tensor classifier = zero_shot_classifier(model, tokenizer, class_names, templates, device);
  write_result_cache(file, {{"classifier", classifier.cpu()}}, {{"dataset", dataset}, {"weights", weights_path}});
  return classifier;
}

ZeroShotLogits zero_shot_logits(ClipModelImpl& model, const at::Tensor& classifier, DatasetPtr dataset,
                                const at::Device& device, int64_t batch_size, int workers) {
  const ImageEmbeddings images = embed_images(model, std::move(dataset), device, batch_size, workers);
  return {at::matmul(images.features, classifier.cpu().t()), images.labels};  // [N, C] cosine similarities
}

ZeroShotAccuracy evaluate_zero_shot(ClipModelImpl& model, const at::Tensor& classifier, DatasetPtr dataset,
                                    const at::Device& device, int64_t batch_size, int workers,
                                    const std::shared_ptr<ProcessGroup>& group) {
  // This rank's part of the dataset, then the hit counts summed over ranks.
  const ImageEmbeddings images = embed_images(model, std::move(dataset), device, batch_size, workers, group);
  const at::Tensor logits = at::matmul(images.features, classifier.cpu().t());  // [N, C] cosine similarities
  const TopHits hits = count_top_hits(logits, images.labels);
  const std::vector<double> counts = sum_over_ranks({hits.top1, hits.top5, hits.samples}, group.get(), device);
  ZeroShotAccuracy accuracy;
  accuracy.samples = static_cast<int64_t>(counts[2]);
  if (counts[2] > 0) {
    accuracy.top1 = 100.0 * counts[0] / counts[2];
    accuracy.top5 = 100.0 * counts[1] / counts[2];
  }
  return accuracy;
}

}  // namespace slipstream
