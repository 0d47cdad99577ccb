#include "slipstream/eval/logistic_regression.h"

#include <ATen/ATen.h>
#include <torch/optim/lbfgs.h>

#include <cmath>

#include "slipstream/core/error.h"

namespace slipstream {

at::Tensor LogisticRegression::logits(const at::Tensor& features) const {
  return at::addmm(bias, features.to(at::kDouble), weight.t());
}

double LogisticRegression::accuracy(const at::Tensor& features, const at::Tensor& labels) const {
  if (features.size(0) == 0) return 0.0;
  return 100.0 * logits(features).argmax(1).eq(labels.to(at::kLong)).to(at::kDouble).mean().item<double>();
}

LogisticRegression fit_logistic_regression(const at::Tensor& features, const at::Tensor& labels, int64_t classes,
                                           const LogisticRegressionOptions& options) {
  if (features.dim() != 2 || labels.dim() != 1 || features.size(0) != labels.size(0) || features.size(0) == 0) {
    throw ShapeError("logistic regression: expected features [N, D] and labels [N] with N > 0");
  }
  if (!(options.c > 0.0)) throw ConfigError("logistic regression: C must be positive");
  const at::Tensor x = features.to(at::kDouble).contiguous();
  const at::Tensor y = labels.to(at::kLong);
  if (y.min().item<int64_t>() < 0 || y.max().item<int64_t>() >= classes) {
    throw ShapeError("logistic regression: labels outside [0, " + std::to_string(classes) + ")");
  }
  at::Tensor weight = at::zeros({classes, x.size(1)}, at::kDouble).requires_grad_(true);
  at::Tensor bias = at::zeros({classes}, at::kDouble).requires_grad_(true);
  // scikit-learn's objective divided by C * N (the same minimiser, better scaled).
  const double n = static_cast<double>(x.size(0));
  torch::optim::LBFGS optimizer({weight, bias}, torch::optim::LBFGSOptions(1.0)
                                                    .max_iter(options.max_iterations)
                                                    .tolerance_grad(options.tolerance)
                                                    .tolerance_change(1e-12)
                                                    .history_size(20)
                                                    .line_search_fn("strong_wolfe"));
  const auto objective = [&]() {
    optimizer.zero_grad();
    const at::Tensor loss = at::cross_entropy_loss(at::addmm(bias, x, weight.t()), y) +
                            weight.pow(2).sum() / (2.0 * options.c * n);
    loss.backward();
    return loss;
  };
  optimizer.step(objective);
  return {weight.detach(), bias.detach()};
}

RegularisationSweep sweep_regularisation(const at::Tensor& train_features, const at::Tensor& train_labels,
                                         const at::Tensor& validation_features, const at::Tensor& validation_labels,
                                         int64_t classes, std::vector<double> cs, const LogisticRegressionOptions& options) {
  if (cs.empty()) {
    for (int power = -6; power <= 6; ++power) cs.push_back(std::pow(10.0, power));
  }
  RegularisationSweep sweep;
  sweep.best_validation_accuracy = -1.0;
  for (double c : cs) {
    LogisticRegressionOptions fit = options;
    fit.c = c;
    const double accuracy =
        fit_logistic_regression(train_features, train_labels, classes, fit).accuracy(validation_features, validation_labels);
    sweep.cs.push_back(c);
    sweep.validation_accuracies.push_back(accuracy);
    if (accuracy > sweep.best_validation_accuracy) {
      sweep.best_validation_accuracy = accuracy;
      sweep.best_c = c;
    }
  }
  return sweep;
}

}  // namespace slipstream
