// slip_run's engine, torchrun's job on one node: start `nproc_per_node` workers with the
// distributed environment set (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT), prefix every line they print with their rank, pass SIGINT and SIGTERM on to them,
// and when one fails stop the others and return its exit code, or with max_restarts start the
// whole group again (TORCHELASTIC_RESTART_COUNT tells the workers which start this is).
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
  // torchrun's --max-restarts: when a worker fails, stop the group and start it again (the
  // workers resume from their last checkpoint) up to this many times. One node only.
  int max_restarts = 0;
};

// Runs the workers to the end. Returns 0 when all exit 0; otherwise the exit code of the first
// worker that failed (128 + signal when one was killed by a signal), after the others were
// stopped and the restarts were spent. Each restart and its cause is printed. `print` receives each output line, already prefixed ("[rank 3] ..."); default stdout.
int launch_workers(const LaunchOptions& options, const std::vector<std::string>& command,
                   const std::function<void(const std::string&)>& print = {});

}  // namespace slipstream
