#include "slipstream/train/cuda_graph_step.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

#include "slipstream/core/error.h"

#ifdef SLIPSTREAM_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace slipstream {

#ifdef SLIPSTREAM_WITH_CUDA
namespace {

// Every input field the step reads, in a fixed order.
std::vector<at::Tensor ModelInputs::*> input_fields() {
  return {&ModelInputs::image, &ModelInputs::text, &ModelInputs::aug1, &ModelInputs::aug2, &ModelInputs::text_aug};
}

// Autocast's cast cache off while a graph is warmed up or captured (cached casts made outside
// the capture must not be read inside it).
class CastCacheOff {
 public:
  CastCacheOff() : was_(at::autocast::is_autocast_cache_enabled()) { at::autocast::set_autocast_cache_enabled(false); }
  ~CastCacheOff() { at::autocast::set_autocast_cache_enabled(was_); }

 private:
  bool was_;
};

}  // namespace

struct CudaGraphStep::State {
  Forward forward;
  std::vector<at::Tensor> parameters;
  int64_t eager_steps = 0, steps = 0;
  c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
  ModelInputs inputs;  // static: every step's inputs are copied in
  LossOutput outputs;  // static after capture
  std::unique_ptr<at::cuda::CUDAGraph> graph;

  void zero_grads() {
    for (at::Tensor& p : parameters) {
      if (p.grad().defined()) p.mutable_grad().zero_();
    }
  }
  // The forward and backward on the side stream, as warmup and capture need.
  void forward_backward() {
    zero_grads();
    outputs = forward(inputs);
    outputs.loss.backward();
  }
};

CudaGraphStep::CudaGraphStep(Forward forward, std::vector<at::Tensor> parameters, int64_t eager_steps)
    : state_(std::make_unique<State>()) {
  state_->forward = std::move(forward);
  state_->parameters = std::move(parameters);
  state_->eager_steps = std::max<int64_t>(1, eager_steps);
}

CudaGraphStep::~CudaGraphStep() = default;

bool CudaGraphStep::captured() const { return state_->graph != nullptr; }

const LossOutput& CudaGraphStep::run(const ModelInputs& inputs) {
  State& s = *state_;
  for (auto field : input_fields()) {
    const at::Tensor& given = inputs.*field;
    at::Tensor& kept = s.inputs.*field;
    if (!given.defined()) continue;
    if (!given.is_cuda()) throw ConfigError("--cuda-graphs: the step's inputs must be on the GPU");
    if (!kept.defined()) {
      kept = at::empty_like(given);
    } else if (kept.sizes() != given.sizes()) {
      throw ConfigError("--cuda-graphs: the step's input shapes changed (" + c10::str(kept.sizes()) + " to " +
                        c10::str(given.sizes()) + "); graphs need the same shapes every step");
    }
    kept.copy_(given, /*non_blocking=*/true);
  }
  const c10::cuda::CUDAStream current = c10::cuda::getCurrentCUDAStream();
  if (s.graph) {
    s.graph->replay();
    ++s.steps;
    return s.outputs;
  }
  // Warmup and capture run on the side stream, ordered after the work before them and before the
  // work after them.
  at::cuda::CUDAEvent ready;
  ready.record(current);
  ready.block(s.side);
  {
    c10::cuda::CUDAStreamGuard on_side(s.side);
    CastCacheOff cast_cache_off;
    if (s.steps < s.eager_steps) {
      s.forward_backward();
    } else {
      s.zero_grads();  // the gradients exist (warmup made them): the graph writes into them
      auto graph = std::make_unique<at::cuda::CUDAGraph>();
      graph->capture_begin();
      s.forward_backward();
      graph->capture_end();
      s.graph = std::move(graph);
    }
  }
  at::cuda::CUDAEvent done;
  done.record(s.side);
  done.block(current);
  if (s.graph) s.graph->replay();  // the capture itself computed nothing
  ++s.steps;
  return s.outputs;
}
#else
struct CudaGraphStep::State {};

CudaGraphStep::CudaGraphStep(Forward, std::vector<at::Tensor>, int64_t) {
  throw ConfigError("--cuda-graphs: this build has no CUDA (LibTorch or the CUDA toolkit was not found at configure time)");
}
CudaGraphStep::~CudaGraphStep() = default;
bool CudaGraphStep::captured() const { return false; }
const LossOutput& CudaGraphStep::run(const ModelInputs&) {
  throw ConfigError("--cuda-graphs: this build has no CUDA");
}
#endif

}  // namespace slipstream
