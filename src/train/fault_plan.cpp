#include "slipstream/train/fault_plan.h"

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "slipstream/core/error.h"
#include "slipstream/train/checkpoint.h"

namespace slipstream {
namespace {

namespace fs = std::filesystem;

void say(const std::string& line) {
  std::printf("fault plan: %s\n", line.c_str());
  std::fflush(stdout);
}

[[noreturn]] void kill_self(const std::string& why) {
  say(why + "; SIGKILL");
  std::raise(SIGKILL);
  std::abort();
}

fs::path filler_of(const std::string& output_dir) { return fs::path(output_dir) / "fault_plan_filler"; }

}  // namespace

FaultPlan& FaultPlan::current(int64_t rank, const std::string& output_dir) {
  static FaultPlan plan = [&] {
    FaultPlan p;
    const char* path = std::getenv("SLIPSTREAM_FAULT_PLAN");
    if (!path || !*path) return p;
    p.path_ = path;
    p.rank_ = rank;
    p.output_dir_ = output_dir;
    std::ifstream in(path);
    const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!j.is_array()) throw ConfigError("SLIPSTREAM_FAULT_PLAN " + p.path_ + ": expected a JSON list of faults");
    for (const auto& item : j) {
      Fault fault;
      fault.kind = item.value("kind", "");
      fault.rank = item.value("rank", int64_t{0});
      fault.step = item.value("step", int64_t{0});
      p.faults_.push_back(fault);
    }
    // A disk filled by an earlier start is freed again, as an operator would.
    std::error_code ignored;
    if (rank == 0 && fs::exists(filler_of(output_dir))) {
      fs::remove(filler_of(output_dir), ignored);
      say("freed the file system of " + output_dir);
    }
    return p;
  }();
  return plan;
}

FaultPlan& FaultPlan::current() { return current(0, ""); }

bool FaultPlan::fire(size_t index) {
  const std::string marker = path_ + ".fired." + std::to_string(index);
  const int fd = ::open(marker.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

void FaultPlan::after_step(int64_t global_step) {
  for (size_t i = 0; i < faults_.size(); ++i) {
    Fault& fault = faults_[i];
    if (global_step < fault.step) continue;
    const bool on_checkpoints = fault.kind == "kill_in_save" || fault.kind == "enospc";
    if (on_checkpoints) {
      fault.armed = rank_ == 0;
      continue;
    }
    if (global_step != fault.step) continue;
    const bool writer_fault = fault.kind == "truncate_newest" || fault.kind == "bitflip_newest" || fault.kind == "fill_disk";
    if ((writer_fault ? 0 : fault.rank) != rank_ || !fire(i)) continue;
    const std::string where = "rank " + std::to_string(rank_) + " after step " + std::to_string(global_step);
    if (fault.kind == "kill") kill_self("kill " + where);
    if (fault.kind == "hang") {
      say("hang " + where);
      for (;;) std::this_thread::sleep_for(std::chrono::seconds(60));
    }
    const std::optional<std::string> newest = latest_checkpoint(output_dir_);
    if (fault.kind == "truncate_newest" && newest) {
      const fs::path file = fs::path(*newest) / "model.safetensors";
      fs::resize_file(file, fs::file_size(file) / 2);
      kill_self("truncated " + file.string() + " at " + where);
    }
    if (fault.kind == "bitflip_newest" && newest) {
      const fs::path file = fs::path(*newest) / "training_state.safetensors";
      std::fstream bytes(file, std::ios::in | std::ios::out | std::ios::binary);
      const std::streamoff middle = static_cast<std::streamoff>(fs::file_size(file) / 2);
      bytes.seekg(middle);
      const char byte = static_cast<char>(bytes.get() ^ 0x10);
      bytes.seekp(middle);
      bytes.put(byte);
      bytes.close();
      kill_self("flipped a bit of " + file.string() + " at " + where);
    }
    if (fault.kind == "fill_disk") {
      std::ofstream filler(filler_of(output_dir_), std::ios::binary);
      const std::vector<char> block(1 << 16, 0);
      int64_t written = 0;
      while (filler.write(block.data(), static_cast<std::streamsize>(block.size())) && written < (int64_t{64} << 30)) {
        written += static_cast<int64_t>(block.size());
      }
      say("filled the file system of " + output_dir_ + " (" + std::to_string(written >> 20) + " MiB) at " + where);
    }
  }
}

void FaultPlan::during_checkpoint_write(const std::string& folder) {
  for (size_t i = 0; i < faults_.size(); ++i) {
    Fault& fault = faults_[i];
    if (!fault.armed || !fire(i)) continue;
    fault.armed = false;
    if (fault.kind == "kill_in_save") kill_self("kill while writing " + folder);
    if (fault.kind == "enospc") {
      say("a full disk while writing " + folder);
      throw FileFormatError(folder, "write failed: No space left on device (injected by the fault plan)");
    }
  }
}

}  // namespace slipstream
