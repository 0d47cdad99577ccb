// One rank of the agreed-stop check: a TrainingRun over real Gloo ranks for up to 8 optimizer
// steps read every 3 (--print-freq 3: after steps 1, 4, 7 and 8), where only the rank named on
// the command line is asked to stop after 3. Every rank must stop at the same step, the next read
// point (4), with the metrics averaged and the counters summed over the ranks, and rank 0 must
// have saved there. Writes "stopped STEP loss LOSS samples SAMPLES" to OUT_rankR.txt.
//   slip_run --nproc-per-node 2 training_run_worker OUTPUT_DIR STOPPING_RANK
#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "slipstream/train/training_run.h"

int main(int argc, char** argv) try {
  using namespace slipstream;
  if (argc != 3) {
    std::fprintf(stderr, "usage: training_run_worker OUTPUT_DIR STOPPING_RANK\n");
    return 2;
  }
  const DistributedEnvironment env = detect_distributed_environment(current_environment());
  RunOptions options;
  options.device = "cpu";
  options.output_dir = argv[1];
  options.print_freq = 3;
  RunHooks hooks;
  if (env.rank == std::stoll(argv[2])) hooks.stop_after_steps = 3;
  TrainingRun run(options, "{}", hooks);
  torch::nn::Linear model(2, 2);
  run.track(*model);
  run.begin(1, 8, 8);
  int64_t step = 0;
  StepVerdict verdict;
  for (; step < 8; ++step) {
    StepLog log;
    log.after = {0, step + 1};
    log.global_step = step + 1;
    log.step_in_epoch = step;
    log.metrics["loss"] = at::scalar_tensor(static_cast<double>(env.rank));  // averaged: (0 + 1) / 2
    log.counters["samples"] = 4.0;                         // summed: 8
    verdict = run.end_step(log);
    if (verdict.stopped) break;
  }
  std::ofstream(std::string(argv[1]) + "_rank" + std::to_string(env.rank) + ".txt")
      << "stopped " << step + 1 << " loss " << verdict.read.back().metrics.at("loss") << " samples "
      << verdict.counters.at("samples") << "\n";
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "training_run_worker: %s\n", e.what());
  return 1;
}
