#include "slipstream/models/simclr_head.h"

#include <ATen/ATen.h>

namespace slipstream {

SimclrHeadImpl::SimclrHeadImpl(int64_t in_dim, int64_t mlp_dim, int64_t out_dim) {
  layer1 = register_module("layer1", torch::nn::Linear(in_dim, mlp_dim));
  bn1 = register_module("bn1", torch::nn::BatchNorm1d(mlp_dim));
  layer2 = register_module("layer2", torch::nn::Linear(mlp_dim, mlp_dim));
  bn2 = register_module("bn2", torch::nn::BatchNorm1d(mlp_dim));
  layer3 = register_module("layer3", torch::nn::Linear(mlp_dim, out_dim));
}

at::Tensor SimclrHeadImpl::normalize(torch::nn::BatchNorm1d& layer, const at::Tensor& x) {
  return batch_norm_ ? batch_norm_(*layer, x) : layer->forward(x);
}

at::Tensor SimclrHeadImpl::forward(const at::Tensor& x) {
  at::Tensor h = at::relu(normalize(bn1, layer1->forward(x)));
  h = at::relu(normalize(bn2, layer2->forward(h)));
  return layer3->forward(h);
}

}  // namespace slipstream
