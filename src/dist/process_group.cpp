#include "slipstream/dist/process_group.h"

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>
#include <string>

#include "slipstream/core/error.h"
#include "src/dist/backend_factories.h"

namespace slipstream {

struct ProcessGroup::Backend {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
};

std::shared_ptr<ProcessGroup> ProcessGroup::connect(const DistributedEnvironment& environment, const at::Device& device,
                                                    std::chrono::milliseconds timeout) {
  std::shared_ptr<ProcessGroup> group(new ProcessGroup());
  group->rank_ = environment.rank;
  group->world_size_ = environment.world_size;
  group->backend_ = std::make_unique<Backend>();
  const std::string where = "rank " + std::to_string(environment.rank) + " of " + std::to_string(environment.world_size);
  try {
    // Under torchrun's elastic agent the agent hosts the store, and it outlives the workers: each
    // start of the group (TORCHELASTIC_RESTART_COUNT) keeps its keys apart, as PyTorch does.
    const char* agent_store = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
    const bool use_agent_store = agent_store && std::string(agent_store) == "True";
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(environment.master_port);
    options.isServer = environment.rank == 0 && !use_agent_store;
    if (!use_agent_store) options.numWorkers = static_cast<std::size_t>(environment.world_size);
    options.waitWorkers = !use_agent_store;
    options.timeout = timeout;
    c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::TCPStore>(environment.master_addr, options);
    if (use_agent_store) {
      const char* restart = std::getenv("TORCHELASTIC_RESTART_COUNT");
      store = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + std::string(restart ? restart : "0"), store);
    }
    group->backend_->store = store;
  } catch (const std::exception& e) {
    throw TrainingError(where + ": rendezvous at " + environment.master_addr + ":" +
                        std::to_string(environment.master_port) + " failed: " + e.what());
  }
  const c10::intrusive_ptr<c10d::Store>& store = group->backend_->store;
  const int rank = static_cast<int>(environment.rank), size = static_cast<int>(environment.world_size);
  try {
    if (device.is_cuda()) {
      group->backend_->backend = make_nccl_backend(store, rank, size, timeout);
      group->backend_name_ = "nccl";
    } else {
      group->backend_->backend = make_gloo_backend(store, rank, size, timeout);
      group->backend_name_ = "gloo";
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw TrainingError(where + ": creating the " + std::string(device.is_cuda() ? "NCCL" : "Gloo") +
                        " process group failed: " + e.what());
  }
  return group;
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::run(const char* what, const std::function<void()>& collective) const {
  try {
    collective();
  } catch (const std::exception& e) {
    std::string cause = e.what();
    const size_t newline = cause.find('\n');
    if (newline != std::string::npos) cause.resize(newline);  // c10 errors append a C++ backtrace
    throw TrainingError("rank " + std::to_string(rank_) + " of " + std::to_string(world_size_) + ": " + what +
                        " failed (" + backend_name_ + "): " + cause);
  }
}

void ProcessGroup::all_reduce_sum(std::vector<at::Tensor>& tensors) {
  for (at::Tensor& tensor : tensors) {  // one collective each: a backend reduces equal shapes only
    std::vector<at::Tensor> one = {tensor};
    all_reduce_sum_async(one).wait();
  }
}

PendingCollective ProcessGroup::all_reduce_sum_async(std::vector<at::Tensor>& tensors) {
  c10::intrusive_ptr<c10d::Work> work;
  run("all_reduce", [&] { work = backend_->backend->allreduce(tensors, c10d::AllreduceOptions()); });
  return PendingCollective([this, work] { run("all_reduce", [&] { work->wait(); }); });
}

void ProcessGroup::all_reduce_max(std::vector<at::Tensor>& tensors) {
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::MAX;
  for (at::Tensor& tensor : tensors) {
    std::vector<at::Tensor> one = {tensor};
    run("all_reduce (max)", [&] { backend_->backend->allreduce(one, options)->wait(); });
  }
}

at::Tensor ProcessGroup::all_gather(const at::Tensor& tensor) {
  std::vector<at::Tensor> inputs = {tensor.contiguous()};
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int64_t r = 0; r < world_size_; ++r) outputs[0].push_back(at::empty_like(inputs[0]));
  run("all_gather", [&] { backend_->backend->allgather(outputs, inputs, c10d::AllgatherOptions())->wait(); });
  return at::cat(outputs[0], 0);
}

void ProcessGroup::broadcast(std::vector<at::Tensor>& tensors, int64_t root) {
  c10d::BroadcastOptions options;
  options.rootRank = root;
  for (at::Tensor& tensor : tensors) {
    std::vector<at::Tensor> one = {tensor};
    run("broadcast", [&] { backend_->backend->broadcast(one, options)->wait(); });
  }
}

void ProcessGroup::barrier() {
  run("barrier", [&] { backend_->backend->barrier(c10d::BarrierOptions())->wait(); });
}

std::vector<double> sum_over_ranks(std::vector<double> values, ProcessGroup* group, const at::Device& device) {
  if (!group || values.empty()) return values;
  std::vector<at::Tensor> summed = {at::tensor(values, at::kDouble).to(device)};
  group->all_reduce_sum(summed);
  const at::Tensor host = summed[0].cpu().contiguous();
  const double* data = host.data_ptr<double>();
  return std::vector<double>(data, data + values.size());
}

}  // namespace slipstream
