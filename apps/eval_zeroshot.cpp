// eval_zeroshot: SLIP's eval_zeroshot.py. Zero-shot classification of a checkpoint on the datasets
// of SLIP's catalog, each scored with SLIP's metric, as a table and as JSON.
//   eval_zeroshot --resume CKPT --bpe bpe_simple_vocab_16e6.txt.gz --catalog dataset_catalog.json
//                 [--datasets imagenet,cifar10] [--output results.json] [--predictions per_image.json] [--strict]
#include "app_main.h"
#include "preprocessing_flags.h"
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "slipstream/core/atomic_file.h"
#include "slipstream/core/error.h"
#include "slipstream/data/text/bpe_location.h"
#include "slipstream/dist/environment.h"
#include "slipstream/data/datasets/open_dataset.h"
#include "slipstream/eval/evaluation_model.h"
#include "slipstream/eval/model_preprocessing.h"
#include "slipstream/eval/zero_shot.h"
#include "slipstream/eval/zero_shot_metrics.h"

namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) parts.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return parts;
}

std::string default_cache_dir() {
  const char* home = std::getenv("HOME");
  return home ? std::string(home) + "/.cache/slipstream/zeroshot" : std::string();
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::string resume, model_name, datasets_flag, catalog = "dataset_catalog.json", labels, templates, bpe, output;
  std::string device_name = "auto", cache_dir = default_cache_dir();
  int64_t batch_size = 256;
  int workers = 0;
  bool strict = false;
  CLI::App app{"eval_zeroshot: zero-shot classification on SLIP's catalog datasets (SLIP's eval_zeroshot.py)"};
  slipstream::configure_app(app);
  app.add_option("--resume", resume, "Checkpoint folder, checkpoint link or .safetensors weights")->required();
  app.add_option("--model", model_name, "Model name or JSON, when the weights do not record theirs");
  app.add_option("--datasets", datasets_flag, "Catalog entries, comma separated (default: every entry with labels)");
  app.add_option("--catalog", catalog, "SLIP's dataset_catalog.json")->capture_default_str();
  app.add_option("--labels", labels, "SLIP's labels.json (default: next to the catalog)");
  app.add_option("--templates", templates, "SLIP's templates.json (default: next to the catalog)");
  app.add_option("--bpe", bpe, "CLIP's bpe_simple_vocab_16e6.txt.gz (default: the checkpoint's, assets/ or open_clip's)");
  slipstream::PreprocessingOverrides preprocessing;
  slipstream::add_preprocessing_flags(app, preprocessing);
  app.add_option("--output", output, "Write the results as JSON here");
  std::string predictions_file;
  app.add_option("--predictions", predictions_file,
                 "Write each image's label and predicted class (top-1), per dataset, as JSON here");
  app.add_option("--batch-size", batch_size, "Images per batch")->capture_default_str();
  app.add_option("-j,--workers", workers, "Loader threads (0: one per core)")->capture_default_str();
  app.add_option("--device", device_name, "auto, cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--cache-dir", cache_dir, "Where class embeddings are cached (\"\": no cache)")->capture_default_str();
  app.add_flag("--strict", strict, "A dataset that cannot be read fails the run instead of being skipped");
  return slipstream::run_app("eval_zeroshot", app, argc, argv, [&]() -> int {
    using namespace slipstream;
    const fs::path folder = fs::path(catalog).parent_path();
    if (labels.empty()) labels = (folder / "labels.json").string();
    if (templates.empty()) templates = (folder / "templates.json").string();
    for (const auto& [flag, path] : {std::pair<std::string, std::string>{"--catalog", catalog}, {"--labels", labels},
                                     {"--templates", templates}}) {
      if (!fs::is_regular_file(path)) throw ConfigError(flag + " " + path + ": no such file");
    }
    const at::Device device = select_device(device_name);
    EvaluationModel loaded = load_evaluation_model(resume, model_name, preprocessing);
    ClipModelImpl* model = &require_text_tower(loaded, "zero-shot classification");
    model->to(device);
    const BpeLocation merges = find_clip_bpe(bpe, loaded.recorded_bpe);
    const ClipTokenizer tokenizer(merges.path);

    std::ifstream catalog_file(catalog);
    const nlohmann::ordered_json entries = nlohmann::ordered_json::parse(catalog_file, nullptr, false);
    if (!entries.is_object()) throw ConfigError("--catalog " + catalog + ": not a JSON object");
    const nlohmann::json label_file = nlohmann::json::parse(std::ifstream(labels), nullptr, false);
    std::vector<std::string> names = split_commas(datasets_flag);
    if (names.empty()) {
      for (const auto& item : entries.items()) {
        if (label_file.is_object() && label_file.contains(item.key())) names.push_back(item.key());
      }
    }

    std::printf("%s\nimages: %s\nCLIP BPE merges: %s\n%-20s %-18s %8s %8s %8s %8s\n", loaded.description.c_str(),
                describe_preprocessing(model->config().vision).c_str(), merges.describe().c_str(), "dataset", "metric",
                "score", "top1", "top5", "images");
    nlohmann::ordered_json results = nlohmann::ordered_json::array();
    nlohmann::ordered_json predictions = nlohmann::ordered_json::object();
    double score_sum = 0.0;
    int64_t scored = 0;
    for (const std::string& name : names) {
      DatasetPtr dataset;
      std::vector<std::string> prompt_templates;
      std::vector<std::vector<std::string>> class_names;
      try {
        prompt_templates = load_prompt_templates(templates, name);
        class_names = load_class_names(labels, name);
        dataset = open_catalog_dataset(catalog, name, /*train=*/false);
      } catch (const Error& e) {
        if (strict) throw ConfigError("dataset '" + name + "': " + e.what() + " (without --strict it is skipped)");
        std::printf("%-20s skipped: %s\n", name.c_str(), e.what());
        results.push_back({{"dataset", name}, {"skipped", e.what()}});
        continue;
      }
      bool from_cache = false;
      const at::Tensor classifier = cached_zero_shot_classifier(*model, tokenizer, class_names, prompt_templates, device,
                                                                loaded.weights_path, name, cache_dir, &from_cache);
      const ZeroShotLogits out = zero_shot_logits(*model, classifier, dataset, device, batch_size, workers);
      if (!predictions_file.empty()) {
        const auto as_vector = [](const at::Tensor& t) {  // [N] -> its values
          const at::Tensor values = t.to(at::kLong).contiguous();
          return std::vector<int64_t>(values.data_ptr<int64_t>(), values.data_ptr<int64_t>() + values.numel());
        };
        predictions[name] = {{"labels", as_vector(out.labels)}, {"predictions", as_vector(out.logits.argmax(1))}};
      }
      const ZeroShotMetric metric = slip_zero_shot_metric(name);
      const double score = zero_shot_score(metric, out.logits, out.labels);
      const double top1 = top_k_accuracy(out.logits, out.labels, 1);
      nlohmann::ordered_json row = {{"dataset", name}, {"metric", metric_name(metric)}, {"score", score},
                                    {"top1", top1}, {"images", out.labels.numel()}};
      std::string top5_text = "-";
      if (classifier.size(0) >= 5) {
        const double top5 = top_k_accuracy(out.logits, out.labels, 5);
        row["top5"] = top5;
        char text[32];
        std::snprintf(text, sizeof(text), "%.2f", top5);
        top5_text = text;
      }
      std::printf("%-20s %-18s %8.2f %8.2f %8s %8lld%s\n", name.c_str(), metric_name(metric).c_str(), score, top1,
                  top5_text.c_str(), static_cast<long long>(out.labels.numel()), from_cache ? "  (class embeddings cached)" : "");
      std::fflush(stdout);
      results.push_back(row);
      score_sum += score;
      ++scored;
    }
    const double average = scored > 0 ? score_sum / static_cast<double>(scored) : 0.0;
    std::printf("%-20s %-18s %8.2f   over %lld datasets\n", "average", "score", average, static_cast<long long>(scored));
    if (!output.empty()) {
      const nlohmann::ordered_json report = {{"checkpoint", loaded.weights_path}, {"model", model->config().name},
                                             {"results", results}, {"average", average}, {"datasets_scored", scored}};
      write_file_atomically(output, report.dump(2) + "\n");
    }
    if (!predictions_file.empty()) write_file_atomically(predictions_file, predictions.dump() + "\n");
    return 0;
  });
}
