// Zero-shot classification as SLIP computes it: prompts, class embeddings (normalised, averaged
// over templates and synonyms, re-normalised) and top-1/top-5 over a labelled dataset, checked
// against the same arithmetic written out sample by sample.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "data/corpora.h"
#include "models/small_configs.h"
#include "slipstream/core/error.h"
#include "slipstream/data/datasets/labelled_datasets.h"
#include "slipstream/data/sample_pipeline.h"
#include "slipstream/eval/retrieval.h"
#include "slipstream/eval/zero_shot.h"
#include "slipstream/eval/zero_shot_metrics.h"
#include "slipstream/models/registry.h"

namespace slipstream {
namespace {

std::shared_ptr<ClipModelImpl> small_clip() {
  ModelConfig config = testing::small_config("clip");
  config.text.vocab_size = 49408;  // CLIP's tokenizer
  at::manual_seed(3);
  return std::dynamic_pointer_cast<ClipModelImpl>(create_model(config));
}

at::Tensor normalized(const at::Tensor& x) { return x / x.norm(2, -1, true); }

TEST(ZeroShot, PromptsAndLabelFilesInSlipsFormat) {
  EXPECT_EQ(format_prompt("a photo of a {}.", "tench"), "a photo of a tench.");
  EXPECT_EQ(format_prompt("{} or {}", "x"), "x or x");
  // SLIP's labels.json and templates.json: per dataset, names or lists of synonyms (fer2013's).
  const std::filesystem::path folder = std::filesystem::temp_directory_path() / ("slip_labels_" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  std::ofstream(folder / "labels.json") << R"({"imagenet": ["tench", "goldfish"], "fer2013": [["angry"], ["happy", "smiling"]],
                                               "broken": ["ok", 3]})";
  std::ofstream(folder / "templates.json") << R"({"imagenet": ["itap of a {}.", "a bad photo of the {}."]})";
  const std::string labels = (folder / "labels.json").string(), templates = (folder / "templates.json").string();
  EXPECT_EQ(load_prompt_templates(templates, "imagenet"), (std::vector<std::string>{"itap of a {}.", "a bad photo of the {}."}));
  EXPECT_EQ(load_class_names(labels, "imagenet"), (std::vector<std::vector<std::string>>{{"tench"}, {"goldfish"}}));
  EXPECT_EQ(load_class_names(labels, "fer2013"), (std::vector<std::vector<std::string>>{{"angry"}, {"happy", "smiling"}}));
  try {
    load_class_names(labels, "no_such_dataset");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("labels.json: no list for dataset 'no_such_dataset'"), std::string::npos);
  }
  EXPECT_THROW(load_class_names(labels, "broken"), ConfigError);
  std::filesystem::remove_all(folder);
  // SLIP's own files, when the checkout has them beside it.
  const std::string shared = std::string(SLIPSTREAM_SOURCE_DIR) + "/../shared/data/";
  if (std::filesystem::exists(shared + "labels.json")) {
    EXPECT_EQ(load_prompt_templates(shared + "templates.json", "imagenet").size(), 7u);
    EXPECT_EQ(load_class_names(shared + "labels.json", "imagenet").size(), 1000u);
  }
}

TEST(ZeroShot, ClassEmbeddingsAverageNormalisedPromptsOverTemplatesAndSynonyms) {
  auto model = small_clip();
  model->eval();
  const ClipTokenizer tokenizer(SLIPSTREAM_TEST_BPE);
  const std::vector<std::string> templates = {"a photo of a {}.", "art of the {}."};
  const std::vector<std::vector<std::string>> classes = {{"cat"}, {"dog", "puppy"}};
  const at::Tensor classifier = zero_shot_classifier(*model, tokenizer, classes, templates, at::Device(at::kCPU));
  ASSERT_EQ(classifier.sizes(), (std::vector<int64_t>{2, 16}));
  EXPECT_TRUE(at::allclose(classifier.norm(2, 1), at::ones({2}), 1e-6, 1e-6));
  at::NoGradGuard no_grad;
  const int64_t context = model->config().text.context_length;
  const auto embed = [&](const std::string& text) {
    return normalized(model->encode_text(tokenizer.tokenize({text}, context))[0]);
  };
  const at::Tensor dog = normalized((embed("a photo of a dog.") + embed("art of the dog.") + embed("a photo of a puppy.") +
                                     embed("art of the puppy.")) / 4);
  EXPECT_TRUE(at::allclose(classifier[1], dog, 1e-5, 1e-6));
  EXPECT_TRUE(model->is_training() == false);
}

TEST(ZeroShot, AccuracyCountsEveryImageOnce) {
  auto model = small_clip();
  const ClipTokenizer tokenizer(SLIPSTREAM_TEST_BPE);
  const DatasetPtr dataset = open_image_folder(testing::corpus_path("imagefolder"));  // ant, cat, dog: 6 images
  const at::Tensor classifier =
      zero_shot_classifier(*model, tokenizer, {{"ant"}, {"cat"}, {"dog"}}, {"a photo of a {}."}, at::Device(at::kCPU));
  model->train();
  const ZeroShotAccuracy accuracy = evaluate_zero_shot(*model, classifier, dataset, at::Device(at::kCPU), 2, 2);
  EXPECT_TRUE(model->is_training());  // restored
  // The same, one image at a time: SLIP's eval transform, normalised features, cosine logits.
  model->eval();
  at::NoGradGuard no_grad;
  PipelineOptions options;
  options.views = {ViewRecipe::kEvalZeroShot};
  options.image_size = model->config().vision.image_size;
  const SamplePipeline pipeline(options);
  double top1 = 0, top3 = 0;
  for (int64_t i = 0; i < dataset->size(); ++i) {
    const Example example = pipeline(dataset->get(i), 0, 0, i);
    const at::Tensor logits = at::matmul(normalized(model->encode_image(example.views[0].unsqueeze(0))), classifier.t())[0];
    top1 += logits.argmax().item<int64_t>() == example.label;
    top3 += 1;  // three classes: every label is within the top 3 (= top-5 here)
  }
  const double images = static_cast<double>(dataset->size());
  EXPECT_EQ(accuracy.samples, 6);
  EXPECT_DOUBLE_EQ(accuracy.top1, 100.0 * top1 / images);
  EXPECT_DOUBLE_EQ(accuracy.top5, 100.0 * top3 / images);
}

TEST(ZeroShot, LogitsFollowTheDatasetOrderAndLabels) {
  // Class rows made from one image of each class ("anchors"): each anchor's cosine with its own
  // row is 1, the highest there is; rotating the rows rotates every image's logits with them.
  auto model = small_clip();
  model->eval();
  const DatasetPtr dataset = open_image_folder(testing::corpus_path("imagefolder"));
  PipelineOptions options;
  options.views = {ViewRecipe::kEvalZeroShot};
  options.image_size = model->config().vision.image_size;
  const SamplePipeline pipeline(options);
  std::vector<int64_t> anchors(3, -1);
  std::vector<at::Tensor> rows(3);
  for (int64_t i = 0; i < dataset->size(); ++i) {
    const Example example = pipeline(dataset->get(i), 0, 0, i);
    if (anchors[example.label] >= 0) continue;
    at::NoGradGuard no_grad;
    anchors[example.label] = i;
    rows[example.label] = normalized(model->encode_image(example.views[0].unsqueeze(0))[0]);
  }
  const at::Tensor right = at::stack(rows);
  const at::Tensor wrong = at::stack({rows[1], rows[2], rows[0]});
  const ZeroShotLogits good = zero_shot_logits(*model, right, dataset, at::Device(at::kCPU), 4, 2);
  const ZeroShotLogits bad = zero_shot_logits(*model, wrong, dataset, at::Device(at::kCPU), 4, 2);
  ASSERT_EQ(good.logits.sizes(), (std::vector<int64_t>{6, 3}));

  // (Some of the corpus's images are near copies of each other, so rows can tie: compare scores.)
  for (int64_t c = 0; c < 3; ++c) {
    const int64_t i = anchors[c];
    EXPECT_EQ(good.labels[i].item<int64_t>(), c);
    EXPECT_NEAR(good.logits[i][c].item<double>(), 1.0, 1e-5) << "anchor " << i;  // its own class scores highest
    EXPECT_GE(good.logits[i][c].item<double>(), good.logits[i].max().item<double>() - 1e-6);
    EXPECT_NEAR(bad.logits[i][(c + 2) % 3].item<double>(), 1.0, 1e-5);  // its row moved to (c + 2) % 3
  }
  const at::Tensor labels = good.labels;
  EXPECT_TRUE(at::equal(labels, bad.labels));
  EXPECT_TRUE(at::allclose(bad.logits, good.logits.index_select(1, at::tensor(std::vector<int64_t>{1, 2, 0})), 1e-6, 1e-6));
}

TEST(ZeroShotMetrics, EqualHandComputedValues) {
  // 4 samples, 3 classes; predictions 2, 0, 1, 1 for labels 0, 0, 1, 2.
  const at::Tensor logits = at::tensor({0.1, 0.2, 0.9, 0.8, 0.1, 0.0, 0.2, 0.7, 0.1, 0.3, 0.6, 0.5}).reshape({4, 3});
  const at::Tensor labels = at::tensor(std::vector<int64_t>{0, 0, 1, 2});
  EXPECT_DOUBLE_EQ(top_k_accuracy(logits, labels, 1), 50.0);   // samples 1 and 2
  EXPECT_DOUBLE_EQ(top_k_accuracy(logits, labels, 2), 75.0);   // + sample 3 (second choice 2)
  EXPECT_DOUBLE_EQ(top_k_accuracy(logits, labels, 5), 100.0);  // k capped at the 3 classes
  EXPECT_NEAR(mean_per_class_accuracy(logits, labels), 100.0 * (0.5 + 1.0 + 0.0) / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(zero_shot_score(ZeroShotMetric::kTop1Top5Average, logits, labels), 75.0);
  // ROC-AUC: scikit-learn's documented example gives 0.75; ties count one half.
  EXPECT_DOUBLE_EQ(roc_auc(at::tensor({0.1, 0.4, 0.35, 0.8}), at::tensor(std::vector<int64_t>{0, 0, 1, 1})), 75.0);
  EXPECT_DOUBLE_EQ(roc_auc(at::tensor({0.5, 0.5, 0.5}), at::tensor(std::vector<int64_t>{0, 1, 1})), 50.0);
  EXPECT_THROW(roc_auc(at::tensor({0.5, 0.1}), at::tensor(std::vector<int64_t>{1, 1})), ShapeError);
  // hateful_memes scores logit[1] - logit[0].
  const at::Tensor binary = at::tensor({0.9, 0.1, 0.2, 0.8, 0.4, 0.6, 0.7, 0.3}).reshape({4, 2});
  EXPECT_DOUBLE_EQ(zero_shot_score(ZeroShotMetric::kRocAuc, binary, at::tensor(std::vector<int64_t>{0, 1, 1, 0})), 100.0);
  EXPECT_EQ(slip_zero_shot_metric("pets"), ZeroShotMetric::kMeanPerClass);
  EXPECT_EQ(slip_zero_shot_metric("kinetics700_frames"), ZeroShotMetric::kTop1Top5Average);
  EXPECT_EQ(slip_zero_shot_metric("hateful_memes"), ZeroShotMetric::kRocAuc);
  EXPECT_EQ(slip_zero_shot_metric("imagenet"), ZeroShotMetric::kTop1);
}

TEST(Retrieval, RecallOnConstructedEmbeddings) {
  // Images e0, e1, e2; caption (i, 0) points at image i, caption (i, 1) mostly at image i + 1.
  const at::Tensor images = at::eye(3);
  std::vector<at::Tensor> captions;
  std::vector<int64_t> owner;
  for (int64_t i = 0; i < 3; ++i) {
    captions.push_back(normalized(images[i] + 0.1 * images[(i + 1) % 3]));
    captions.push_back(normalized(images[(i + 1) % 3] + 0.2 * images[i]));
    owner.insert(owner.end(), {i, i});
  }
  const RetrievalRecall recall = retrieval_recall(images, at::stack(captions), at::tensor(owner), {1, 2, 10});
  EXPECT_DOUBLE_EQ(recall.text_to_image.at(1), 50.0);   // the (i, 1) captions find image i + 1 first
  EXPECT_DOUBLE_EQ(recall.text_to_image.at(2), 100.0);  // and their own second
  EXPECT_DOUBLE_EQ(recall.image_to_text.at(1), 100.0);  // each image's closest caption is its (i, 0)
  EXPECT_DOUBLE_EQ(recall.text_to_image.at(10), 100.0);  // k beyond the images: all of them
  // One caption each: image 0 keeps (0, 1), which points at image 1, while image 2's (2, 1) points
  // at image 0, so image 0 finds its caption second: found at k = 2, not at k = 1.
  const RetrievalRecall lost = retrieval_recall(images, at::stack({captions[1], captions[2], captions[5]}),
                                                at::tensor(std::vector<int64_t>{0, 1, 2}), {1, 2});
  EXPECT_NEAR(lost.image_to_text.at(1), 100.0 * 2.0 / 3.0, 1e-9);
  EXPECT_DOUBLE_EQ(lost.image_to_text.at(2), 100.0);
}

TEST(Retrieval, ReadsKarpathySplits) {
  const std::filesystem::path file = std::filesystem::temp_directory_path() / ("karpathy_" + std::to_string(::getpid()) + ".json");
  std::ofstream(file) << R"({"dataset": "coco", "images": [
    {"filepath": "val2014", "filename": "a.jpg", "split": "test", "sentences": [{"raw": "A dog."}, {"raw": "A pet."}]},
    {"filepath": "train2014", "filename": "b.jpg", "split": "train", "sentences": [{"raw": "skip me"}]},
    {"filename": "c.jpg", "split": "test", "sentences": [{"raw": "A cat."}]}]})";
  const RetrievalSplit split = load_karpathy_split(file.string(), "/data/coco");
  EXPECT_EQ(split.image_paths, (std::vector<std::string>{"/data/coco/val2014/a.jpg", "/data/coco/c.jpg"}));
  EXPECT_EQ(split.captions, (std::vector<std::string>{"A dog.", "A pet.", "A cat."}));
  EXPECT_EQ(split.caption_image, (std::vector<int64_t>{0, 0, 1}));
  EXPECT_THROW(load_karpathy_split(file.string(), "/data/coco", "val"), FileFormatError);
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace slipstream
