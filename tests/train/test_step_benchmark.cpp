// slip_bench's measurement on a small model: the JSON's fields, phases that add up to the step,
// the counted FLOPs, and MFU only against a stated peak on the CPU.
#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "models/small_configs.h"
#include "slipstream/core/error.h"
#include "slipstream/models/flop_count.h"
#include "slipstream/train/step_benchmark.h"

namespace slipstream {
namespace {

TEST(StepBenchmark, ReportsPhasesFlopsAndMemory) {
  ModelConfig config = testing::small_config("slip");
  config.text.vocab_size = 49408;
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("slipstream_bench_" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << to_json(config);
  StepBenchmarkOptions options;
  options.model = path.string();
  options.batch = 4;
  options.steps = 3;
  options.warmup = 1;
  options.device = "cpu";
  const nlohmann::json out = nlohmann::json::parse(run_step_benchmark(options));
  EXPECT_EQ(out.at("model"), "SMALL_slip");
  EXPECT_EQ(out.at("precision"), "fp32");
  EXPECT_GT(out.at("samples_per_second").get<double>(), 0.0);
  const nlohmann::json& phases = out.at("phases_ms");
  double sum = 0.0;
  for (const char* phase : {"data", "forward", "backward", "grad_sync", "optimizer"}) sum += phases.at(phase).get<double>();
  EXPECT_NEAR(sum, phases.at("step").get<double>(), 1e-6 * sum);
  EXPECT_DOUBLE_EQ(out.at("flops_per_step").get<double>(), training_step_flops(config, 4).total().total());
  EXPECT_TRUE(out.at("mfu").is_null());  // no peak stated on the CPU
  EXPECT_GT(out.at("peak_memory_mib").get<double>(), 1.0);
  options.peak_tflops = 2.0;
  options.grad_checkpointing = true;
  const nlohmann::json stated = nlohmann::json::parse(run_step_benchmark(options));
  EXPECT_NEAR(stated.at("mfu").get<double>(), stated.at("achieved_tflops").get<double>() / 2.0, 1e-12);
  EXPECT_EQ(stated.at("grad_checkpointing"), true);
  options.batch = 0;
  EXPECT_THROW(run_step_benchmark(options), ConfigError);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace slipstream
