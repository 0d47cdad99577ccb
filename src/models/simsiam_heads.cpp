#include "slipstream/models/simsiam_heads.h"

#include <ATen/ATen.h>

namespace slipstream {

SimsiamProjectorImpl::SimsiamProjectorImpl(int64_t in_dim, int64_t hidden_dim, int64_t out_dim) {
  linear1 = register_module("linear1", torch::nn::Linear(in_dim, hidden_dim));
  bn1 = register_module("bn1", torch::nn::BatchNorm1d(hidden_dim));
  linear2 = register_module("linear2", torch::nn::Linear(hidden_dim, hidden_dim));
  bn2 = register_module("bn2", torch::nn::BatchNorm1d(hidden_dim));
  linear3 = register_module("linear3", torch::nn::Linear(hidden_dim, out_dim));
  bn3 = register_module("bn3", torch::nn::BatchNorm1d(out_dim));
}

at::Tensor SimsiamProjectorImpl::forward(const at::Tensor& x) {
  at::Tensor h = at::relu(bn1->forward(linear1->forward(x)));  // [B, hidden]
  h = at::relu(bn2->forward(linear2->forward(h)));             // [B, hidden]
  return bn3->forward(linear3->forward(h));                    // [B, out]
}

SimsiamPredictorImpl::SimsiamPredictorImpl(int64_t in_dim, int64_t hidden_dim, int64_t out_dim) {
  linear1 = register_module("linear1", torch::nn::Linear(in_dim, hidden_dim));
  bn1 = register_module("bn1", torch::nn::BatchNorm1d(hidden_dim));
  layer2 = register_module("layer2", torch::nn::Linear(hidden_dim, out_dim));
}

at::Tensor SimsiamPredictorImpl::forward(const at::Tensor& x) {
  return layer2->forward(at::relu(bn1->forward(linear1->forward(x))));  // [B, out]
}

}  // namespace slipstream
