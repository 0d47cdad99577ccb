#include "slipstream/models/activation_checkpoint.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/ivalue.h>
#include <ATen/Context.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <mutex>
#include <optional>
#include <vector>

#include "slipstream/models/running_statistics_pause.h"

namespace slipstream {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// What the recomputation needs besides the input: the block, and the state it first ran under.
struct RecomputeState : torch::CustomClassHolder {
  CheckpointedBlock block;
  std::shared_ptr<torch::nn::Module> batch_norms;
  std::vector<std::pair<at::Generator, at::Tensor>> generators;  // the default generators' states at the first run
  bool cpu_autocast = false, cuda_autocast = false;
  at::ScalarType cpu_dtype = at::kBFloat16, cuda_dtype = at::kHalf;
};

std::vector<at::Generator> default_generators(const at::Tensor& input) {
  std::vector<at::Generator> generators = {at::globalContext().defaultGenerator(at::Device(at::kCPU))};
  if (input.is_cuda()) generators.push_back(at::globalContext().defaultGenerator(input.device()));
  return generators;
}

at::Tensor generator_state(at::Generator& generator) {
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_generator_state(at::Generator& generator, const at::Tensor& state) {
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

// Sets an autocast state for a scope and puts the previous one back.
class AutocastState {
 public:
  AutocastState(at::DeviceType type, bool enabled, at::ScalarType dtype)
      : type_(type), was_enabled_(at::autocast::is_autocast_enabled(type)), was_dtype_(at::autocast::get_autocast_dtype(type)) {
    at::autocast::set_autocast_enabled(type_, enabled);
    at::autocast::set_autocast_dtype(type_, dtype);
  }
  ~AutocastState() {
    at::autocast::set_autocast_enabled(type_, was_enabled_);
    at::autocast::set_autocast_dtype(type_, was_dtype_);
  }

 private:
  at::DeviceType type_;
  bool was_enabled_;
  at::ScalarType was_dtype_;
};

struct CheckpointFunction : public torch::autograd::Function<CheckpointFunction> {
  // Runs with grad mode off (autograd's rule for a custom function's forward): nothing is kept.
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input, const CheckpointedBlock& block,
                            const std::shared_ptr<torch::nn::Module>& batch_norms) {
    auto state = c10::make_intrusive<RecomputeState>();
    state->block = block;
    state->batch_norms = batch_norms;
    for (at::Generator& generator : default_generators(input)) {
      state->generators.emplace_back(generator, generator_state(generator));
    }
    state->cpu_autocast = at::autocast::is_autocast_enabled(at::kCPU);
    state->cpu_dtype = at::autocast::get_autocast_dtype(at::kCPU);
    state->cuda_autocast = at::autocast::is_autocast_enabled(at::kCUDA);
    state->cuda_dtype = at::autocast::get_autocast_dtype(at::kCUDA);
    ctx->save_for_backward({input});
    ctx->saved_data["state"] = at::IValue::make_capsule(state);
    return block(input);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const at::Tensor input = ctx->get_saved_variables()[0];
    auto state = c10::static_intrusive_pointer_cast<RecomputeState>(ctx->saved_data["state"].toCapsule());
    // The first run's random draws (dropout, drop path) again, then the current state back.
    std::vector<at::Tensor> now;
    for (auto& [generator, first] : state->generators) {
      now.push_back(generator_state(generator));
      set_generator_state(generator, first);
    }
    at::Tensor replay = input.detach().requires_grad_(input.requires_grad());
    at::Tensor output;
    {
      torch::AutoGradMode enable_grad(true);
      AutocastState cpu(at::kCPU, state->cpu_autocast, state->cpu_dtype);
      AutocastState cuda(at::kCUDA, state->cuda_autocast, state->cuda_dtype);
      std::optional<RunningStatisticsPause> pause;
      std::vector<std::pair<at::Tensor, at::Tensor>> counts;  // num_batches_tracked and its value
      if (state->batch_norms) {
        pause.emplace(*state->batch_norms);
        const std::string count_name = "num_batches_tracked";
        for (const auto& buffer : state->batch_norms->named_buffers()) {
          const std::string& key = buffer.key();
          if (key.size() >= count_name.size() && key.compare(key.size() - count_name.size(), count_name.size(), count_name) == 0) {
            counts.emplace_back(buffer.value(), buffer.value().clone());
          }
        }
      }
      output = state->block(replay);
      for (auto& [count, before] : counts) count.copy_(before);
    }
    for (size_t i = 0; i < now.size(); ++i) set_generator_state(state->generators[i].first, now[i]);
    if (output.requires_grad()) torch::autograd::backward({output}, {grad_outputs[0]});
    return {replay.requires_grad() ? replay.grad() : at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor checkpointed(const CheckpointedBlock& block, const at::Tensor& input,
                        std::shared_ptr<torch::nn::Module> batch_norms) {
  // An input that needs no gradient (a frozen tower's, LiT's locked groups) would hide the block's
  // own parameters from autograd (the reentrant checkpoint's caveat): such a block runs plainly.
  if (!at::GradMode::is_enabled() || !input.requires_grad()) return block(input);
  return CheckpointFunction::apply(input, block, batch_norms);
}

}  // namespace slipstream
