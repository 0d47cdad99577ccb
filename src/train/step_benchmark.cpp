#include "slipstream/train/step_benchmark.h"

#include <ATen/ATen.h>
#include <c10/core/CachingDeviceAllocator.h>
#include <c10/core/Event.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include <chrono>
#include <optional>

#include "slipstream/core/build_info.h"
#include "slipstream/core/error.h"
#include "slipstream/dist/environment.h"
#include "slipstream/losses/slip_loss.h"
#include "slipstream/models/flop_count.h"
#include "slipstream/models/registry.h"
#include "slipstream/train/adamw.h"
#include "slipstream/train/autocast.h"
#include "slipstream/train/cuda_graph_step.h"
#include "slipstream/train/grad_scaler.h"

namespace slipstream {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kHopperBf16DenseTflops = 989.4;  // H100 / H200 SXM, dense bf16 tensor cores
enum Phase { kData, kForward, kBackward, kGradSync, kOptimizer, kPhases };
const char* const kPhaseNames[kPhases] = {"data", "forward", "backward", "grad_sync", "optimizer"};

// Marks the phase boundaries of one step: CUDA events on a GPU (elapsed times read after the
// step), wall-clock time on the CPU.
class PhaseTimer {
 public:
  explicit PhaseTimer(const at::Device& device) : device_(device) {}
  void mark() {
    if (device_.is_cuda()) {
      c10::Event event(c10::DeviceType::CUDA, c10::EventFlag::BACKEND_DEFAULT);
      event.record(c10::impl::VirtualGuardImpl(c10::DeviceType::CUDA).getStream(device_));
      events_.push_back(std::move(event));
    } else {
      times_.push_back(Clock::now());
    }
  }
  // Milliseconds between consecutive marks, then clears them (synchronises on a GPU).
  std::vector<double> durations_ms() {
    std::vector<double> out;
    if (device_.is_cuda()) {
      if (!events_.empty()) events_.back().synchronize();
      for (size_t i = 1; i < events_.size(); ++i) out.push_back(events_[i - 1].elapsedTime(events_[i]));
      events_.clear();
    } else {
      for (size_t i = 1; i < times_.size(); ++i) {
        out.push_back(std::chrono::duration<double, std::milli>(times_[i] - times_[i - 1]).count());
      }
      times_.clear();
    }
    return out;
  }

 private:
  at::Device device_;
  std::vector<c10::Event> events_;
  std::vector<Clock::time_point> times_;
};

// Inputs of the family's views at the model's sizes: normalised-image-like noise and captions of
// random lengths ending in EOT (the largest id), on the device.
ModelInputs synthetic_inputs(const ModelConfig& c, int64_t batch, const at::Device& device, bool pin) {
  // Made on the host, as a loader's batch is, and copied without blocking from page-locked memory.
  const auto upload = [&](const at::Tensor& t) {
    return device.is_cuda() ? (pin ? t.pin_memory() : t).to(device, /*non_blocking=*/pin) : t;
  };
  const auto images = [&](int64_t side) { return upload(at::randn({batch, 3, side, side})); };  // [B, 3, S, S]
  ModelInputs inputs;
  const int64_t ssl_side = c.ssl.image_size > 0 ? c.ssl.image_size : c.vision.image_size;
  if (c.has_ssl_head()) {
    inputs.aug1 = images(ssl_side);
    inputs.aug2 = images(ssl_side);
  }
  if (c.has_text()) {
    inputs.image = images(c.vision.image_size);
    const int64_t context = c.text.context_length, eot = 49407;
    at::Tensor tokens = at::randint(1, 49406, {batch, context}, at::kLong);  // [B, L]
    const at::Tensor lengths = at::randint(2, context, {batch}, at::kLong);
    for (int64_t i = 0; i < batch; ++i) {
      const int64_t length = lengths[i].item<int64_t>();
      tokens[i][length - 1] = eot;
      if (length < context) tokens[i].slice(0, length).zero_();
    }
    inputs.text = upload(tokens);
  }
  return inputs;
}

double peak_resident_mib() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
}

}  // namespace

std::string run_step_benchmark(const StepBenchmarkOptions& o) {
  if (o.batch < 1 || o.steps < 1 || o.warmup < 0) throw ConfigError("slip_bench: --batch and --steps must be positive");
  const ModelConfig config = resolve_model_config(o.model);
  if (config.family == "declip") throw ConfigError("slip_bench: DeCLIP models are not benchmarked (" + config.name + ")");
  const at::Device device = select_device(o.device);
  const std::string gpu_line = apply_gpu_settings(o.gpu, device);
  const std::string precision = resolve_precision(o.precision, device, "--precision");
  const std::optional<at::ScalarType> dtype = autocast_dtype(precision);

  at::manual_seed(o.seed);
  ContrastiveModel model = create_model(config);
  model->set_grad_checkpointing(o.grad_checkpointing);
  model->to(device);
  if (o.gpu.channels_last) to_channels_last(*model);
  model->train();
  const std::unique_ptr<ContrastiveLoss> loss_function = create_loss(config.family, LossOptions{});
  AdamW optimizer(slip_parameter_groups(*model, 0.1), AdamWOptions{});
  GradScalerOptions scaler_options;
  scaler_options.enabled = precision == "fp16";
  GradScaler scaler(scaler_options);
  auto* clip = dynamic_cast<ClipModelImpl*>(model.get());
  std::unique_ptr<CudaGraphStep> graph;
  if (o.gpu.cuda_graphs && device.is_cuda()) {
    if (precision == "fp16") throw ConfigError("slip_bench --cuda-graphs: bf16 or fp32 (fp16's loss scale is a host number)");
    graph = std::make_unique<CudaGraphStep>(
        [&](const ModelInputs& in) {
          AutocastScope autocast(device.type(), dtype);
          return loss_function->forward(model->forward(in));
        },
        model->parameters());
  }
  if (device.is_cuda()) {
    c10::getDeviceAllocator(c10::DeviceType::CUDA)->resetPeakStats(device.index());
  }

  PhaseTimer timer(device);
  std::vector<double> totals(kPhases, 0.0);
  double step_ms = 0.0;
  for (int64_t step = 0; step < o.warmup + o.steps; ++step) {
    timer.mark();
    const ModelInputs inputs = synthetic_inputs(config, o.batch, device, o.gpu.pin_memory);  // the data wait
    timer.mark();
    if (graph) {
      graph->run(inputs);  // forward and backward, replayed
      timer.mark();
    } else {
      at::Tensor loss;
      {
        AutocastScope autocast(device.type(), dtype);
        loss = loss_function->forward(model->forward(inputs)).loss;
      }
      timer.mark();
      scaler.scale(loss).backward();
    }
    timer.mark();  // one process: no gradient all-reduce
    timer.mark();
    scaler.step(optimizer);
    if (!graph) optimizer.zero_grad();
    if (clip) clip->clamp_logit_scale();
    timer.mark();
    const std::vector<double> phases = timer.durations_ms();
    if (step < o.warmup) continue;
    for (int p = 0; p < kPhases; ++p) totals[p] += phases[static_cast<size_t>(p)];
    for (double ms : phases) step_ms += ms;
  }

  const double steps = static_cast<double>(o.steps);
  const double seconds_per_step = step_ms / steps / 1000.0;
  const double flops = training_step_flops(config, o.batch).total().total();
  const double achieved = flops / seconds_per_step / 1e12;
  const double peak = o.peak_tflops > 0 ? o.peak_tflops : (device.is_cuda() ? kHopperBf16DenseTflops : 0.0);
  nlohmann::ordered_json phases = nlohmann::ordered_json::object();
  for (int p = 0; p < kPhases; ++p) phases[kPhaseNames[p]] = totals[static_cast<size_t>(p)] / steps;
  phases["step"] = step_ms / steps;
  double memory = peak_resident_mib();
  std::string memory_source = "peak resident memory of the process (getrusage)";
  if (device.is_cuda()) {
    const auto stats = c10::getDeviceAllocator(c10::DeviceType::CUDA)->getDeviceStats(device.index());
    memory = static_cast<double>(stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak) /
             (1024.0 * 1024.0);
    memory_source = "CUDA caching allocator: peak allocated bytes";
  }
  const BuildInfo build = build_info();
  nlohmann::ordered_json out = {
      {"trainer", "slipstream"}, {"model", config.name}, {"family", config.family}, {"batch", o.batch},
      {"precision", precision}, {"device", device.str()}, {"grad_checkpointing", o.grad_checkpointing},
      {"gpu_settings", {{"cudnn_benchmark", o.gpu.cudnn_benchmark}, {"tf32", o.gpu.tf32},
                        {"channels_last", o.gpu.channels_last}, {"cuda_graphs", graph != nullptr},
                        {"pin_memory", o.gpu.pin_memory}, {"line", gpu_line}}},
      {"steps", o.steps}, {"warmup", o.warmup}, {"samples_per_second", static_cast<double>(o.batch) / seconds_per_step},
      {"phases_ms", phases}, {"flops_per_step", flops}, {"achieved_tflops", achieved},
      {"peak_tflops", peak > 0 ? nlohmann::ordered_json(peak) : nlohmann::ordered_json(nullptr)},
      {"mfu", peak > 0 ? nlohmann::ordered_json(achieved / peak) : nlohmann::ordered_json(nullptr)},
      {"peak_memory_mib", memory}, {"memory_source", memory_source},
      {"versions", {{"slipstream", build.slipstream_version}, {"libtorch", build.torch_version},
                    {"cuda_runtime", build.cuda_runtime_version}, {"cudnn", build.cudnn_version},
                    {"nccl", build.nccl_version}, {"threads", at::get_num_threads()}}}};
  return out.dump(2);
}

}  // namespace slipstream
