// Faults injected on purpose, for the fault drill (scripts/fault_drill.sh, tests/apps): a JSON
// list in the file SLIPSTREAM_FAULT_PLAN names, read once per process; without that variable
// nothing here does anything. Each fault fires once across restarts (firing creates
// PLAN.fired.I), at the optimizer step it names, on the rank it names:
//   {"kind": "kill", "rank": R, "step": S}            SIGKILL after step S
//   {"kind": "hang", "rank": R, "step": S}            stop making progress after step S (the hang watchdog's case)
//   {"kind": "kill_in_save", "step": S}               SIGKILL while writing the first checkpoint after step S
//   {"kind": "truncate_newest", "step": S}            halve the newest checkpoint's weights file, then SIGKILL
//   {"kind": "bitflip_newest", "step": S}             flip a bit of the newest checkpoint's state file, then SIGKILL
//   {"kind": "fill_disk", "step": S}                  fill the output folder's file system (the next save fails);
//                                                     the next process start frees it again
//   {"kind": "enospc", "step": S}                     the first save after step S fails as on a full disk
// The faults on checkpoints act on rank 0, which writes them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace slipstream {

class FaultPlan {
 public:
  // The process's plan (empty without SLIPSTREAM_FAULT_PLAN); `rank` and `output_dir` on first use.
  static FaultPlan& current(int64_t rank, const std::string& output_dir);
  static FaultPlan& current();  // after the first use

  bool empty() const { return faults_.empty(); }
  void after_step(int64_t global_step);   // kill, hang, truncate_newest, bitflip_newest, fill_disk, enospc
  void during_checkpoint_write(const std::string& folder);  // kill_in_save, enospc: between the two files

 private:
  struct Fault {
    std::string kind;
    int64_t rank = 0, step = 0;
    bool armed = false;  // a checkpoint fault whose step has passed, waiting for the next save
  };
  FaultPlan() = default;
  bool fire(size_t index);  // true the first time across processes
  std::string path_, output_dir_;
  int64_t rank_ = 0;
  std::vector<Fault> faults_;
};

}  // namespace slipstream
