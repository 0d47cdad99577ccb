// slip_run's engine, torchrun's job on one node: start `nproc_per_node` workers with the
// distributed environment set (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT), prefix every line they print with their rank, pass SIGINT and SIGTERM on to them,
// and when one fails stop the others and return its exit code.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace slipstream {

struct LaunchOptions {
  int nproc_per_node = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  double stop_grace_seconds = 10.0;  // after a worker failed, how long the others get after SIGTERM before SIGKILL
};

// Runs the workers to the end. Returns 0 when all exit 0; otherwise the exit code of the first
// worker that failed (128 + signal when one was killed by a signal), after the others were
// stopped. `print` receives each output line, already prefixed ("[rank 3] ..."); default stdout.
int launch_workers(const LaunchOptions& options, const std::vector<std::string>& command,
                   const std::function<void(const std::string&)>& print = {});

}  // namespace slipstream
