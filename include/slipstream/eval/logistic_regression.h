// The CLIP paper's linear-probe protocol on cached features: multinomial logistic regression with
// scikit-learn's objective (C x the summed cross-entropy + 0.5 ||W||^2, intercept not penalised),
// minimised by L-BFGS with a strong-Wolfe line search in double precision, and the regularisation
// strength C chosen on a validation split from a log-spaced sweep.
#pragma once
#include <ATen/core/Tensor.h>

#include <vector>

namespace slipstream {

struct LogisticRegressionOptions {
  double c = 1.0;                // inverse regularisation strength, as scikit-learn's C
  int64_t max_iterations = 1000;
  double tolerance = 1e-8;       // on the gradient's largest component
};

struct LogisticRegression {
  at::Tensor weight;  // [classes, D] double
  at::Tensor bias;    // [classes] double
  at::Tensor logits(const at::Tensor& features) const;                           // [N, classes]
  double accuracy(const at::Tensor& features, const at::Tensor& labels) const;  // percent
};

// features [N, D], labels [N] int64 in [0, classes).
LogisticRegression fit_logistic_regression(const at::Tensor& features, const at::Tensor& labels, int64_t classes,
                                           const LogisticRegressionOptions& options = {});

struct RegularisationSweep {
  double best_c = 0.0;
  double best_validation_accuracy = 0.0;
  std::vector<double> cs, validation_accuracies;  // every C tried, in order
};

// Fits each C of `cs` (default: 10^-6 .. 10^6, one per power of ten) on the training features and
// keeps the one with the best validation accuracy (the smallest C among ties).
RegularisationSweep sweep_regularisation(const at::Tensor& train_features, const at::Tensor& train_labels,
                                         const at::Tensor& validation_features, const at::Tensor& validation_labels,
                                         int64_t classes, std::vector<double> cs = {},
                                         const LogisticRegressionOptions& options = {});

}  // namespace slipstream
