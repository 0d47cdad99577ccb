// DeCLIP's image self-supervision heads (SimSiam on the projected image embedding), named as
// DeCLIP names them:
//   projector: linear1 (E -> 1024), bn1, ReLU, linear2 (1024 -> 1024), bn2, ReLU, linear3 (1024 -> 1024), bn3
//   predictor: linear1 (1024 -> 512), bn1, ReLU, layer2 (512 -> 1024)
// BatchNorms are per process, as in DeCLIP.
#pragma once
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>

namespace slipstream {

class SimsiamProjectorImpl : public torch::nn::Module {
 public:
  SimsiamProjectorImpl(int64_t in_dim, int64_t hidden_dim = 1024, int64_t out_dim = 1024);
  at::Tensor forward(const at::Tensor& x);  // [B, in_dim] -> [B, out_dim]
  torch::nn::Linear linear1{nullptr}, linear2{nullptr}, linear3{nullptr};
  torch::nn::BatchNorm1d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
};
TORCH_MODULE(SimsiamProjector);

class SimsiamPredictorImpl : public torch::nn::Module {
 public:
  SimsiamPredictorImpl(int64_t in_dim = 1024, int64_t hidden_dim = 512, int64_t out_dim = 1024);
  at::Tensor forward(const at::Tensor& x);  // [B, in_dim] -> [B, out_dim], no BN on the output
  torch::nn::Linear linear1{nullptr}, layer2{nullptr};
  torch::nn::BatchNorm1d bn1{nullptr};
};
TORCH_MODULE(SimsiamPredictor);

}  // namespace slipstream
