// slip_run: a torchrun-style launcher. Starts --nproc-per-node workers of the command with the
// distributed environment set, prefixes their output lines with their rank, forwards SIGINT and
// SIGTERM, and when a worker fails stops the others and exits with its code.
//   slip_run --nproc-per-node 8 [--nnodes 2 --node-rank 0 --master-addr HOST --master-port 29500] slip_pretrain ...
#include "app_main.h"

#include <iostream>

#include "slipstream/dist/launcher.h"

int main(int argc, char** argv) {
  slipstream::LaunchOptions options;
  std::vector<std::string> command;
  CLI::App app{"slip_run: start distributed workers on this node (torchrun's flags)"};
  app.add_option("--nproc-per-node,--nproc_per_node", options.nproc_per_node, "Workers on this node (one per GPU)")
      ->capture_default_str();
  app.add_option("--nnodes", options.nnodes, "Nodes in the job")->capture_default_str();
  app.add_option("--node-rank,--node_rank", options.node_rank, "This node's index")->capture_default_str();
  app.add_option("--master-addr,--master_addr", options.master_addr, "Host of rank 0 (the rendezvous)")->capture_default_str();
  app.add_option("--master-port,--master_port", options.master_port, "Rendezvous port")->capture_default_str();
  app.add_option("--stop-grace", options.stop_grace_seconds,
                 "When a worker fails, seconds the others get after SIGTERM before SIGKILL")
      ->capture_default_str();
  app.add_option("--max-restarts,--max_restarts", options.max_restarts,
                 "When a worker fails, restart the whole group this many times (it resumes from its last checkpoint)")
      ->capture_default_str();
  app.prefix_command();  // the first argument that is not slip_run's starts the worker's command
  app.footer("The worker's command and its arguments follow slip_run's options.");
  return slipstream::run_app("slip_run", app, argc, argv, [&]() -> int {
    command = app.remaining();
    return slipstream::launch_workers(options, command);
  });
}
