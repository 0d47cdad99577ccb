#include "slipstream/dist/environment.h"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <unistd.h>

#include <cstdlib>

#include "slipstream/core/error.h"

extern char** environ;

namespace slipstream {
namespace {

int64_t integer_variable(const std::map<std::string, std::string>& environment, const std::string& name,
                         int64_t fallback) {
  const auto found = environment.find(name);
  if (found == environment.end() || found->second.empty()) return fallback;
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(found->second, &used);
  } catch (const std::logic_error&) {
    used = 0;
  }
  if (used != found->second.size() || value < 0) {
    throw ConfigError("environment variable " + name + "='" + found->second + "': expected a non-negative integer");
  }
  return value;
}

std::string text_variable(const std::map<std::string, std::string>& environment, const std::string& name,
                          const std::string& fallback) {
  const auto found = environment.find(name);
  return found == environment.end() || found->second.empty() ? fallback : found->second;
}

}  // namespace

std::map<std::string, std::string> current_environment() {
  std::map<std::string, std::string> environment;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string text(*entry);
    const size_t equals = text.find('=');
    if (equals != std::string::npos) environment[text.substr(0, equals)] = text.substr(equals + 1);
  }
  return environment;
}

c10::Device select_device(const std::string& name, int64_t local_rank) {
  const bool cuda = at::globalContext().hasCUDA() && at::detail::getCUDAHooks().deviceCount() > 0;
  const c10::Device gpu(c10::kCUDA, static_cast<c10::DeviceIndex>(local_rank));
  if (name == "auto") return cuda ? gpu : c10::Device(c10::kCPU);
  if (name == "cuda" && cuda) return gpu;
  c10::Device device(c10::kCPU);
  try {
    device = c10::Device(name);
  } catch (const std::exception&) {
    throw ConfigError("--device " + name + ": expected auto, cpu, cuda or cuda:N");
  }
  if (device.is_cuda() && !cuda) throw ConfigError("--device " + name + ": this machine has no CUDA device");
  return device;
}

std::string first_slurm_host(const std::string& nodelist) {
  // Hosts are separated by commas outside brackets; a bracket holds ranges of the first host's suffix.
  const size_t bracket = nodelist.find('[');
  const size_t comma = nodelist.find(',');
  if (bracket == std::string::npos || (comma != std::string::npos && comma < bracket)) {
    return nodelist.substr(0, comma);
  }
  const std::string prefix = nodelist.substr(0, bracket);
  const size_t end = nodelist.find_first_of(",-]", bracket + 1);
  if (end == std::string::npos) throw ConfigError("SLURM_JOB_NODELIST '" + nodelist + "': unbalanced '['");
  return prefix + nodelist.substr(bracket + 1, end - bracket - 1);
}

DistributedEnvironment detect_distributed_environment(const std::map<std::string, std::string>& environment) {
  DistributedEnvironment env;
  const bool torchrun = environment.count("RANK") && environment.count("WORLD_SIZE");
  const bool slurm = !torchrun && environment.count("SLURM_PROCID") && environment.count("SLURM_NTASKS");
  if (torchrun) {
    env.source = "torchrun variables";
    env.rank = integer_variable(environment, "RANK", 0);
    env.world_size = integer_variable(environment, "WORLD_SIZE", 1);
    env.local_rank = integer_variable(environment, "LOCAL_RANK", 0);
    env.local_world_size = integer_variable(environment, "LOCAL_WORLD_SIZE", env.world_size);
    env.master_addr = text_variable(environment, "MASTER_ADDR", env.master_addr);
    env.master_port = static_cast<int>(integer_variable(environment, "MASTER_PORT", env.master_port));
  } else if (slurm) {
    env.source = "Slurm";
    env.rank = integer_variable(environment, "SLURM_PROCID", 0);
    env.world_size = integer_variable(environment, "SLURM_NTASKS", 1);
    env.local_rank = integer_variable(environment, "SLURM_LOCALID", 0);
    // SLURM_NTASKS_PER_NODE may read "4(x2)"; its leading number is the count on this node.
    const std::string per_node = text_variable(environment, "SLURM_NTASKS_PER_NODE", "");
    env.local_world_size = per_node.empty() ? env.world_size : std::max<int64_t>(1, std::atoll(per_node.c_str()));
    const std::string nodes = text_variable(environment, "SLURM_JOB_NODELIST", text_variable(environment, "SLURM_NODELIST", ""));
    env.master_addr = text_variable(environment, "MASTER_ADDR", nodes.empty() ? env.master_addr : first_slurm_host(nodes));
    // A port per job, so jobs sharing a node do not collide (MASTER_PORT overrides).
    const int64_t job = integer_variable(environment, "SLURM_JOB_ID", 0);
    env.master_port = static_cast<int>(integer_variable(environment, "MASTER_PORT", 20000 + job % 20000));
  }
  if (env.world_size < 1 || env.rank >= env.world_size) {
    throw ConfigError("distributed environment (" + env.source + "): rank " + std::to_string(env.rank) +
                      " is not below the world size " + std::to_string(env.world_size));
  }
  if (env.master_port < 1 || env.master_port > 65535) {
    throw ConfigError("MASTER_PORT " + std::to_string(env.master_port) + ": expected a port number");
  }
  return env;
}

}  // namespace slipstream
