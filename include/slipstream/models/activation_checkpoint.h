// Activation checkpointing (open_clip's --grad-checkpointing; torch.utils.checkpoint with
// use_reentrant=True): a block's activations are not kept for the backward pass; the block runs
// again there, from its saved input, under the random-generator and autocast state of the first
// run, so the gradients are the ones without checkpointing. Costs one more forward of the block.
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>

#include <torch/nn/module.h>

namespace slipstream {

using CheckpointedBlock = std::function<at::Tensor(const at::Tensor&)>;

// `block(input)`, its activations recomputed in the backward pass. With grad mode off, or an input
// that needs no gradient, it is simply `block(input)`.
// Parameters reached by `block` get their gradients accumulated during the recomputation.
// `batch_norms`: the module tree the block's BatchNorm layers are in (a ResNet stage): their running
// statistics and batch counts are updated by the first run only, as without checkpointing.
at::Tensor checkpointed(const CheckpointedBlock& block, const at::Tensor& input,
                        std::shared_ptr<torch::nn::Module> batch_norms = nullptr);

}  // namespace slipstream
