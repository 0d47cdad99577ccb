// SLIP's SimCLR projection MLP (`image_mlp`): Linear -> BN -> ReLU -> Linear -> BN -> ReLU -> Linear.
// Names: layer1, bn1, layer2, bn2, layer3. BatchNorm statistics are synchronised across ranks
// by the distributed layer when training on several processes.
#pragma once
#include <functional>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>

namespace slipstream {

class SimclrHeadImpl : public torch::nn::Module {
 public:
  SimclrHeadImpl(int64_t in_dim, int64_t mlp_dim, int64_t out_dim);
  at::Tensor forward(const at::Tensor& x);  // [B, in_dim] -> [B, out_dim]
  torch::nn::Linear layer1{nullptr}, layer2{nullptr}, layer3{nullptr};
  torch::nn::BatchNorm1d bn1{nullptr}, bn2{nullptr};

  // How bn1 and bn2 are applied: by default their own forward (this process's batch); the
  // distributed layer installs sync_batch_norm (statistics over every rank's batch).
  using BatchNorm = std::function<at::Tensor(torch::nn::BatchNorm1dImpl& layer, const at::Tensor& x)>;
  void set_batch_norm(BatchNorm batch_norm) { batch_norm_ = std::move(batch_norm); }

 private:
  at::Tensor normalize(torch::nn::BatchNorm1d& layer, const at::Tensor& x);
  BatchNorm batch_norm_;
};
TORCH_MODULE(SimclrHead);

}  // namespace slipstream
