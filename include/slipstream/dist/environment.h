// Where this process sits in a distributed run, read from the launcher's environment: torchrun's
// and slip_run's variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT) or Slurm's (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_NTASKS_PER_NODE, the
// first host of SLURM_JOB_NODELIST). Neither: a single process.
#pragma once
#include <c10/core/Device.h>

#include <cstdint>
#include <map>
#include <string>

namespace slipstream {

struct DistributedEnvironment {
  int64_t rank = 0;
  int64_t world_size = 1;
  int64_t local_rank = 0;        // the GPU this process uses
  int64_t local_world_size = 1;  // processes on this node
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string source = "single process";  // "torchrun variables", "Slurm", "single process"
  bool distributed() const { return world_size > 1; }
};

// The process's environment variables.
std::map<std::string, std::string> current_environment();

// Throws ConfigError naming the variable when one is malformed or inconsistent (rank >= world size).
DistributedEnvironment detect_distributed_environment(const std::map<std::string, std::string>& environment);

// The device a process computes on, from a --device flag: "auto" is this process's GPU (the one of
// its local rank) when CUDA has devices, else the CPU; "cuda" is that GPU; "cpu" or "cuda:N" as
// given. ConfigError when a GPU is asked for and there is none.
c10::Device select_device(const std::string& name, int64_t local_rank = 0);

// The first host of a Slurm node list: "gpu[03-05,9],cpu1" -> "gpu03", "node7" -> "node7".
std::string first_slurm_host(const std::string& nodelist);

}  // namespace slipstream
