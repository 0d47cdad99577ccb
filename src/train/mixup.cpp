#include "slipstream/train/mixup.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

double sample_beta(double alpha, std::mt19937_64& rng) {
  std::gamma_distribution<double> gamma(alpha, 1.0);
  const double x = gamma(rng), y = gamma(rng);
  return x + y > 0.0 ? x / (x + y) : 0.5;
}

}  // namespace

MixDraw sample_mix(const MixupOptions& options, int64_t height, int64_t width, std::mt19937_64& rng) {
  MixDraw draw;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  if (!options.enabled() || unit(rng) >= options.prob) return draw;
  if (options.mixup_alpha > 0.0 && options.cutmix_alpha > 0.0) {
    draw.cutmix = unit(rng) < options.switch_prob;
  } else {
    draw.cutmix = options.cutmix_alpha > 0.0;
  }
  draw.lam = sample_beta(draw.cutmix ? options.cutmix_alpha : options.mixup_alpha, rng);
  if (!draw.cutmix) return draw;
  // timm's rand_bbox (margin 0) and cutmix_bbox_and_lam(correct_lam=True).
  const double ratio = std::sqrt(1.0 - draw.lam);
  const int64_t cut_h = static_cast<int64_t>(static_cast<double>(height) * ratio);
  const int64_t cut_w = static_cast<int64_t>(static_cast<double>(width) * ratio);
  const int64_t cy = std::uniform_int_distribution<int64_t>(0, height - 1)(rng);
  const int64_t cx = std::uniform_int_distribution<int64_t>(0, width - 1)(rng);
  draw.top = std::clamp<int64_t>(cy - cut_h / 2, 0, height);
  draw.bottom = std::clamp<int64_t>(cy + cut_h / 2, 0, height);
  draw.left = std::clamp<int64_t>(cx - cut_w / 2, 0, width);
  draw.right = std::clamp<int64_t>(cx + cut_w / 2, 0, width);
  const double area = static_cast<double>((draw.bottom - draw.top) * (draw.right - draw.left));
  draw.lam = 1.0 - area / static_cast<double>(height * width);
  return draw;
}

at::Tensor mixup_target(const at::Tensor& labels, int64_t classes, double lam, double smoothing) {
  const double off = smoothing / static_cast<double>(classes);
  const double on = 1.0 - smoothing + off;
  const auto one_hot = [&](const at::Tensor& y) {  // [B] -> [B, classes]
    return at::full({y.size(0), classes}, off, labels.options().dtype(at::kFloat))
        .scatter_(1, y.to(at::kLong).unsqueeze(1), on);
  };
  const at::Tensor y1 = one_hot(labels);
  if (lam == 1.0) return y1;
  return y1 * lam + one_hot(labels.flip(0)) * (1.0 - lam);
}

MixedBatch mix_batch(const at::Tensor& images, const at::Tensor& labels, const MixDraw& draw, int64_t classes,
                     double smoothing) {
  if (images.dim() != 4 || labels.dim() != 1 || images.size(0) != labels.size(0)) {
    throw ShapeError("mix_batch: expected images [B, 3, H, W] and labels [B]");
  }
  MixedBatch out;
  out.targets = mixup_target(labels, classes, draw.lam, smoothing);
  if (draw.lam == 1.0) {
    out.images = images;
    return out;
  }
  if (images.size(0) % 2 != 0) {
    throw ShapeError("mix_batch: mixup and CutMix need an even batch, got " + std::to_string(images.size(0)));
  }
  if (draw.cutmix) {
    out.images = images.clone();
    const at::Tensor flipped = images.flip(0);
    const int64_t rows = draw.bottom - draw.top, columns = draw.right - draw.left;
    out.images.narrow(2, draw.top, rows).narrow(3, draw.left, columns)
        .copy_(flipped.narrow(2, draw.top, rows).narrow(3, draw.left, columns));
  } else {
    out.images = images * draw.lam + images.flip(0) * (1.0 - draw.lam);
  }
  return out;
}

at::Tensor soft_target_cross_entropy(const at::Tensor& logits, const at::Tensor& targets) {
  return (-targets * at::log_softmax(logits, -1)).sum(-1).mean();
}

}  // namespace slipstream
