#include "slipstream/eval/zero_shot_metrics.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <vector>

#include "slipstream/core/error.h"

namespace slipstream {

ZeroShotMetric slip_zero_shot_metric(const std::string& dataset) {
  if (dataset == "aircraft" || dataset == "pets" || dataset == "caltech101" || dataset == "flowers") {
    return ZeroShotMetric::kMeanPerClass;
  }
  if (dataset == "kinetics700_frames") return ZeroShotMetric::kTop1Top5Average;
  if (dataset == "hateful_memes") return ZeroShotMetric::kRocAuc;
  return ZeroShotMetric::kTop1;
}

std::string metric_name(ZeroShotMetric metric) {
  switch (metric) {
    case ZeroShotMetric::kMeanPerClass: return "mean_per_class";
    case ZeroShotMetric::kTop1Top5Average: return "top1_top5_average";
    case ZeroShotMetric::kRocAuc: return "roc_auc";
    default: return "top1";
  }
}

double top_k_accuracy(const at::Tensor& logits, const at::Tensor& labels, int64_t k) {
  if (logits.size(0) == 0) return 0.0;
  k = std::min<int64_t>(k, logits.size(1));
  const at::Tensor top = std::get<1>(logits.topk(k, 1));  // [N, k]
  return 100.0 * top.eq(labels.unsqueeze(1)).any(1).to(at::kDouble).mean().item<double>();
}

double mean_per_class_accuracy(const at::Tensor& logits, const at::Tensor& labels) {
  const at::Tensor predicted = logits.argmax(1);
  const at::Tensor present = std::get<0>(at::_unique(labels));
  if (present.numel() == 0) return 0.0;
  double sum = 0.0;
  for (int64_t i = 0; i < present.numel(); ++i) {
    const at::Tensor in_class = labels.eq(present[i]);
    sum += predicted.masked_select(in_class).eq(present[i]).to(at::kDouble).mean().item<double>();
  }
  return 100.0 * sum / static_cast<double>(present.numel());
}

double roc_auc(const at::Tensor& scores, const at::Tensor& labels) {
  const at::Tensor s = scores.to(at::kDouble).contiguous(), y = labels.to(at::kLong).contiguous();
  const int64_t n = s.numel();
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  const double* score = s.data_ptr<double>();
  const int64_t* label = y.data_ptr<int64_t>();
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return score[a] < score[b]; });
  // Mann-Whitney U: the sum of the positives' ranks (tied scores share their average rank).
  double positive_ranks = 0.0;
  int64_t positives = 0;
  for (int64_t i = 0; i < n;) {
    int64_t j = i;
    while (j < n && score[order[static_cast<size_t>(j)]] == score[order[static_cast<size_t>(i)]]) ++j;
    const double rank = 0.5 * static_cast<double>(i + 1 + j);  // mean of ranks i+1 .. j
    for (int64_t k = i; k < j; ++k) {
      if (label[order[static_cast<size_t>(k)]] == 1) positive_ranks += rank, ++positives;
    }
    i = j;
  }
  const int64_t negatives = n - positives;
  if (positives == 0 || negatives == 0) throw ShapeError("roc_auc: needs both classes among the labels");
  const double u = positive_ranks - 0.5 * static_cast<double>(positives) * static_cast<double>(positives + 1);
  return 100.0 * u / (static_cast<double>(positives) * static_cast<double>(negatives));
}

double zero_shot_score(ZeroShotMetric metric, const at::Tensor& logits, const at::Tensor& labels) {
  switch (metric) {
    case ZeroShotMetric::kMeanPerClass: return mean_per_class_accuracy(logits, labels);
    case ZeroShotMetric::kTop1Top5Average: return 0.5 * (top_k_accuracy(logits, labels, 1) + top_k_accuracy(logits, labels, 5));
    case ZeroShotMetric::kRocAuc: return roc_auc(logits.select(1, 1) - logits.select(1, 0), labels);
    default: return top_k_accuracy(logits, labels, 1);
  }
}

TopHits count_top_hits(const at::Tensor& logits, const at::Tensor& labels) {
  const int64_t k = std::min<int64_t>(5, logits.size(1));
  const at::Tensor hits = std::get<1>(logits.topk(k, 1)).eq(labels.to(logits.device()).unsqueeze(1));  // [N, k]
  return {hits.narrow(1, 0, 1).sum().item<double>(), hits.any(1).sum().item<double>(),
          static_cast<double>(labels.numel())};
}

}  // namespace slipstream
