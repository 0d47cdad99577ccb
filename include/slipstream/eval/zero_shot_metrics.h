// The scores SLIP's eval_zeroshot.py reports per dataset: mean-per-class accuracy (aircraft, pets,
// caltech101, flowers), the average of top-1 and top-5 (kinetics700_frames), ROC-AUC of
// logit[1] - logit[0] (hateful_memes), top-1 for the rest.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>

namespace slipstream {

enum class ZeroShotMetric { kTop1, kMeanPerClass, kTop1Top5Average, kRocAuc };

ZeroShotMetric slip_zero_shot_metric(const std::string& dataset);
std::string metric_name(ZeroShotMetric metric);  // "top1", "mean_per_class", "top1_top5_average", "roc_auc"

// logits [N, C], labels [N] int64. Percentages (ROC-AUC as well, as SLIP prints it).
double top_k_accuracy(const at::Tensor& logits, const at::Tensor& labels, int64_t k);
double mean_per_class_accuracy(const at::Tensor& logits, const at::Tensor& labels);  // over the classes present
// Area under the ROC curve of `scores` [N] for binary `labels` [N] (ties count one half), as
// scikit-learn's roc_auc_score; throws ShapeError when only one class is present.
double roc_auc(const at::Tensor& scores, const at::Tensor& labels);

// Hit counts of logits [N, C] against labels [N], to be summed over batches and ranks: top-1,
// top-k with k = min(5, C), and N.
struct TopHits {
  double top1 = 0.0, top5 = 0.0, samples = 0.0;
};
TopHits count_top_hits(const at::Tensor& logits, const at::Tensor& labels);

// The dataset's SLIP score from its logits.
double zero_shot_score(ZeroShotMetric metric, const at::Tensor& logits, const at::Tensor& labels);

}  // namespace slipstream
