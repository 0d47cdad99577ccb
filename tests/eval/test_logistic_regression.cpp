// The linear probe's fast mode: L-BFGS logistic regression on cached features against
// scikit-learn's LogisticRegression on the same features (within 1 percentage point), and the
// regularisation sweep.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "slipstream/core/safetensors.h"
#include "slipstream/eval/logistic_regression.h"

namespace slipstream {
namespace {

// Three overlapping Gaussian classes in 8 dimensions: accuracy well below 100%.
void blobs(int64_t per_class, double spread, at::Tensor& x, at::Tensor& y) {
  const at::Tensor means = at::tensor({1.0, 0.0, 0.5, -0.5, 0.0, 0.0, 0.2, 0.0,  //
                                       0.0, 1.0, -0.5, 0.5, 0.3, 0.0, 0.0, 0.1,  //
                                       -0.6, -0.6, 0.0, 0.0, -0.3, 0.4, 0.0, 0.0}, at::kDouble)
                               .reshape({3, 8});
  y = at::arange(3, at::kLong).repeat_interleave(per_class);
  x = means.index_select(0, y) + spread * at::randn({3 * per_class, 8}, at::kDouble);
}

TEST(LogisticRegression, MatchesScikitLearnOnTheSameFeatures) {
  at::manual_seed(11);
  at::Tensor train_x, train_y, test_x, test_y;
  blobs(100, 1.0, train_x, train_y);
  blobs(60, 1.0, test_x, test_y);
  const std::filesystem::path folder =
      std::filesystem::temp_directory_path() / ("slipstream_logreg_" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  save_safetensors((folder / "features.safetensors").string(),
                   {{"train_x", train_x}, {"train_y", train_y}, {"test_x", test_x}, {"test_y", test_y}});
  std::ofstream(folder / "reference.py") << R"(import json, sys
from safetensors.numpy import load_file
from sklearn.linear_model import LogisticRegression
f = load_file(sys.argv[1] + "/features.safetensors")
out = []
for c in [0.001, 0.1, 10.0]:
    m = LogisticRegression(C=c, max_iter=10000, tol=1e-10).fit(f["train_x"], f["train_y"])
    out.append(100.0 * m.score(f["test_x"], f["test_y"]))
json.dump(out, open(sys.argv[1] + "/reference.json", "w"))
)";
  const std::string command = std::string(SLIPSTREAM_TEST_PYTHON) + " " + (folder / "reference.py").string() + " " +
                              folder.string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const nlohmann::json reference = nlohmann::json::parse(std::ifstream(folder / "reference.json"));
  const std::vector<double> cs = {0.001, 0.1, 10.0};
  for (size_t i = 0; i < cs.size(); ++i) {
    const double c = cs[i];
    LogisticRegressionOptions options;
    options.c = c;
    const double ours = fit_logistic_regression(train_x, train_y, 3, options).accuracy(test_x, test_y);
    const double theirs = reference.at(i).get<double>();
    std::printf("[parity] logistic regression C=%g: slipstream %.2f%%, scikit-learn %.2f%%\n", c, ours, theirs);
    EXPECT_NEAR(ours, theirs, 1.0) << "C = " << c;
    EXPECT_LT(ours, 100.0);  // the classes overlap: a real test of the fit
  }
  std::filesystem::remove_all(folder);
}

TEST(LogisticRegression, SeparableFeaturesAreLearnedAndTheSweepKeepsTheBestC) {
  at::manual_seed(12);
  at::Tensor train_x, train_y, val_x, val_y;
  blobs(40, 0.05, train_x, train_y);  // tight clusters: separable
  blobs(20, 0.05, val_x, val_y);
  const LogisticRegression model = fit_logistic_regression(train_x, train_y, 3);
  EXPECT_DOUBLE_EQ(model.accuracy(val_x, val_y), 100.0);
  const RegularisationSweep sweep = sweep_regularisation(train_x, train_y, val_x, val_y, 3);
  ASSERT_EQ(sweep.cs.size(), 13u);  // 1e-6 .. 1e6
  for (double accuracy : sweep.validation_accuracies) EXPECT_LE(accuracy, sweep.best_validation_accuracy);
  EXPECT_DOUBLE_EQ(sweep.best_validation_accuracy, 100.0);
}

}  // namespace
}  // namespace slipstream
