#include "slipstream/train/training_run.h"

#include <ATen/ATen.h>
#include <c10/core/CachingDeviceAllocator.h>
#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "slipstream/core/atomic_file.h"
#include "slipstream/core/error.h"
#include "slipstream/core/text_format.h"
#include "slipstream/dist/process_group.h"
#include "slipstream/train/checkpoint.h"
#include "slipstream/train/fault_plan.h"
#include "slipstream/train/stop_signals.h"
#include "slipstream/train/tensorboard_writer.h"

namespace slipstream {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string format_duration(double seconds) {
  const auto total = static_cast<long long>(std::max(0.0, seconds));
  return format_text("%lld:%02lld:%02lld", total / 3600, total / 60 % 60, total % 60);
}

// The memory the progress line reports: on a GPU the caching allocator's peak of allocated bytes,
// on the CPU the process's resident set.
std::string memory_text(const at::Device& device) {
  double bytes = 0.0;
  const char* what = "rss";
  if (device.is_cuda()) {
    const auto stats = c10::getDeviceAllocator(c10::DeviceType::CUDA)->getDeviceStats(device.index());
    bytes = static_cast<double>(stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak);
    what = "peak";
  } else {
    std::ifstream statm("/proc/self/statm");
    int64_t pages = 0, resident = 0;
    statm >> pages >> resident;
    bytes = static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
  }
  return format_text("%s %.0f MiB", what, bytes / (1024.0 * 1024.0));
}

std::string values_text(const std::map<std::string, double>& values, const char* pattern) {
  std::string text;
  for (const auto& [name, value] : values) text += format_text(pattern, name.c_str(), value);
  return text;
}

}  // namespace

TrainingRun::TrainingRun(const RunOptions& options, std::string config_json, RunHooks hooks)
    : options_(options), config_json_(std::move(config_json)), hooks_(std::move(hooks)) {
  validate(options_);
  environment_ = detect_distributed_environment(current_environment());
  device_ = select_device(options_.device, environment_.local_rank);
  gpu_settings_line_ = apply_gpu_settings(options_.gpu, device_);
  terminal_ = !hooks_.print && ::isatty(STDOUT_FILENO) == 1;
  if (environment_.distributed()) {
    group_ = ProcessGroup::connect(environment_, device_, std::chrono::seconds(options_.dist_timeout));
  }
  if (checkpoints_enabled() && lead()) {
    fs::create_directories(options_.output_dir);
    out_log_.open(fs::path(options_.output_dir) / "out.log", std::ios::app);
  }
  if (group_) group_->barrier();  // the folder exists before any rank looks for checkpoints in it
  watchdog_ = std::make_unique<HangWatchdog>(options_.hang_timeout, environment_.rank);
  FaultPlan::current(environment_.rank, options_.output_dir);  // the fault drill's, when SLIPSTREAM_FAULT_PLAN is set
}

TrainingRun::~TrainingRun() = default;

LoaderOptions TrainingRun::loader_options(int64_t batch_size) const {
  LoaderOptions loader;
  loader.batch_size = batch_size;
  loader.workers = static_cast<int>(options_.workers);
  loader.seed = static_cast<uint64_t>(options_.seed);
  loader.rank = environment_.rank;
  loader.world_size = environment_.world_size;
  loader.pin_memory = options_.gpu.pin_memory;
  return loader;
}

void TrainingRun::log(const std::string& line) {
  if (!lead() && !options_.log_all_ranks) return;
  if (out_log_.is_open()) out_log_ << line << "\n" << std::flush;
  if (hooks_.print) return hooks_.print(line);
  std::printf("%s%s\n", bar_shown_ ? "\n" : "", line.c_str());
  std::fflush(stdout);
  bar_shown_ = false;
}

void TrainingRun::progress(const std::string& line, double done) {
  if (!lead() && !options_.log_all_ranks) return;
  if (!terminal_) return log(line);
  if (out_log_.is_open()) out_log_ << line << "\n" << std::flush;
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(done * kWidth);
  std::printf("\r\033[K[%s%s] %3.0f%% %s", std::string(static_cast<size_t>(filled), '#').c_str(),
              std::string(static_cast<size_t>(kWidth - filled), '.').c_str(), 100.0 * done, line.c_str());
  std::fflush(stdout);
  bar_shown_ = true;
}

void TrainingRun::broadcast_from_lead(torch::nn::Module& module) {
  if (!group_) return;
  std::vector<at::Tensor> tensors;
  for (const auto& item : module.named_parameters()) tensors.push_back(item.value());
  for (const auto& item : module.named_buffers()) tensors.push_back(item.value());
  at::NoGradGuard no_grad;
  group_->broadcast(tensors, 0);
}

void TrainingRun::track(torch::nn::Module& model, TrackedParts parts, std::string model_config_json) {
  model_ = &model;
  parts_ = std::move(parts);
  model_config_json_ = std::move(model_config_json);
}

bool TrainingRun::record_accuracy(double acc1) {
  const bool best = acc1 > best_acc1_;
  best_acc1_ = std::max(best_acc1_, acc1);
  return best;
}

RunPosition TrainingRun::resume(int64_t batches_per_epoch, int64_t update_freq, const std::string& fallback,
                                RunPosition start) {
  if (!model_) throw TrainingError("TrainingRun::resume: track() the model first");
  std::optional<std::string> source;
  if (checkpoints_enabled()) {
    source = latest_valid_checkpoint(options_.output_dir, [this](const std::string& line) { log(line); });
  }
  if (!source && !fallback.empty()) source = fallback;
  if (!source) return start;
  RunPosition at = start;
  if (fs::is_directory(*source)) {
    const TrainingState state = read_checkpoint(*source, *model_);
    if (parts_.optimizer.load) parts_.optimizer.load(state.optimizer);
    if (parts_.scaler.load) parts_.scaler.load(state.scaler);
    if (parts_.extra.load) parts_.extra.load(state.loss);
    restore_rng_states(state.rng);
    restore_loader_position(state.data_positions_json);
    at = {state.epoch, state.batch};
    best_acc1_ = state.best_acc1;
    meters_ = RunMeters::from_json(state.meters_json);
    last_checkpoint_ = *source;
    log("=> resumed from " + *source + " (epoch " + std::to_string(at.epoch) + ", step " + std::to_string(at.batch) + ")");
  } else {
    const LoadReport report = load_weights(*model_, *source, /*strict=*/true);
    log("=> initialised from the weights of " + *source + (report.clean() ? "" : ": " + report.summary()));
  }
  if (at.batch % update_freq != 0 || at.batch > batches_per_epoch) {
    throw ConfigError(*source + ": its step " + std::to_string(at.batch) + " does not fit --update-freq " +
                      std::to_string(update_freq) + " and " + std::to_string(batches_per_epoch) +
                      " loader steps per epoch: resume with the settings it was written with");
  }
  return at;
}

std::string TrainingRun::gather_loader_positions() {
  if (!parts_.loader) return "";
  const std::string mine = parts_.loader->position();
  std::vector<std::string> positions = {mine};
  if (group_) {  // the lengths, then every rank's bytes padded to the longest
    std::vector<at::Tensor> longest = {at::full({1}, static_cast<double>(mine.size()), at::TensorOptions(device_).dtype(at::kDouble))};
    group_->all_reduce_max(longest);
    const auto width = static_cast<int64_t>(longest[0].item<double>());
    at::Tensor bytes = at::zeros({width + 8}, at::TensorOptions().dtype(at::kByte));
    const auto size = static_cast<uint64_t>(mine.size());
    std::memcpy(bytes.data_ptr<uint8_t>(), &size, 8);
    std::memcpy(bytes.data_ptr<uint8_t>() + 8, mine.data(), mine.size());
    const at::Tensor all = group_->all_gather(bytes.to(device_)).cpu().contiguous();  // [world * (width + 8)]
    positions.clear();
    for (int64_t rank = 0; rank < world_size(); ++rank) {
      const uint8_t* row = all.data_ptr<uint8_t>() + rank * (width + 8);
      uint64_t length = 0;
      std::memcpy(&length, row, 8);
      positions.emplace_back(reinterpret_cast<const char*>(row + 8), static_cast<size_t>(length));
    }
  }
  bool any = false;
  for (const std::string& position : positions) any = any || !position.empty();
  if (!any) return "";
  return nlohmann::json{{"world_size", world_size()}, {"ranks", positions}}.dump();
}

void TrainingRun::restore_loader_position(const std::string& positions_json) {
  if (!parts_.loader || positions_json.empty()) return;
  const nlohmann::json positions = nlohmann::json::parse(positions_json, nullptr, /*allow_exceptions=*/false);
  if (!positions.is_object() || !positions.contains("ranks") || !positions["ranks"].is_array()) {
    throw TrainingError("the checkpoint's loader positions are unreadable");
  }
  const int64_t written_with = positions.value("world_size", int64_t{0});
  if (written_with != world_size()) {
    log("=> the checkpoint's stream positions are those of " + std::to_string(written_with) + " ranks and this run has " +
        std::to_string(world_size()) + ": each rank reads the interrupted epoch's remaining steps from the start of its "
        "pass over the shards, split " + std::to_string(world_size()) + " ways (samples may repeat or be missed this epoch)");
    return;
  }
  const std::string mine = positions["ranks"][static_cast<size_t>(environment_.rank)].get<std::string>();
  if (!mine.empty()) parts_.loader->restore_position(mine);
}

void TrainingRun::begin(int64_t epochs, int64_t steps_per_epoch, int64_t batches_per_epoch) {
  epochs_ = epochs;
  steps_per_epoch_ = steps_per_epoch;
  batches_per_epoch_ = batches_per_epoch;
  if (lead() && checkpoints_enabled()) {
    write_file_atomically((fs::path(options_.output_dir) / "config.json").string(), config_json_ + "\n");
    steps_log_.open(fs::path(options_.output_dir) / "steps.jsonl", std::ios::app);
    tensorboard_ = std::make_unique<TensorBoardWriter>((fs::path(options_.output_dir) / "tensorboard").string());
  }
  if (!gpu_settings_line_.empty()) log(gpu_settings_line_);
  started_ = interval_start_ = Clock::now();
}

void TrainingRun::enter(RunPhase phase) { watchdog_->enter(phase, position_.epoch, position_.batch); }

Batch TrainingRun::next_batch(BatchLoader& loader, RunPosition at) {
  position_ = at;
  enter(RunPhase::kData);
  const Clock::time_point wait_start = Clock::now();
  std::optional<Batch> next = loader.next();
  data_seconds_ += std::chrono::duration<double>(Clock::now() - wait_start).count();
  if (!next) {
    throw TrainingError("the loader ended epoch " + std::to_string(at.epoch) + " early, at step " + std::to_string(at.batch));
  }
  interval_samples_ += next->size() * world_size();
  return std::move(*next);
}

bool TrainingRun::skip_nonfinite_step(const at::Tensor& loss, const std::map<std::string, at::Tensor>& terms,
                                      RunPosition at) {
  if (options_.skip_nonfinite == 0) return false;  // the read point checks the step's "loss"
  const double value = loss.item<double>();
  const bool finite_here = std::isfinite(value);
  bool finite = finite_here;
  if (group_) {  // a skip must be every rank's: their backward passes meet
    std::vector<at::Tensor> bad = {at::full({1}, finite_here ? 0.0f : 1.0f, at::TensorOptions(device_))};
    group_->all_reduce_max(bad);
    finite = bad[0].item<float>() == 0.0f;
  }
  if (finite) return false;
  std::string what = "non-finite loss at epoch " + std::to_string(at.epoch) + " step " + std::to_string(at.batch);
  if (finite_here) {
    what += " on another rank";
  } else {
    std::map<std::string, double> values = {{"loss", value}};
    for (const auto& [name, term] : terms) values[name] = term.item<double>();
    what += ":" + values_text(values, " %s %.4f");
  }
  if (skipped_steps_ < options_.skip_nonfinite) {
    ++skipped_steps_;
    log("=> " + what + "; step skipped (" + std::to_string(skipped_steps_) + " of --skip-nonfinite " +
        std::to_string(options_.skip_nonfinite) + ")");
    return true;
  }
  throw TrainingError(what + " after " + std::to_string(skipped_steps_) + " skipped steps; the last checkpoint" +
                      (last_checkpoint_.empty() ? std::string() : " (" + last_checkpoint_ + ")") + " is the last good state");
}

std::vector<StepValues> TrainingRun::read_unread_steps(std::map<std::string, double>& counters, bool& stop) {
  // One vector on the device: every unread step's metrics, then the counters and the stop (summed
  // over the ranks), then the scalars (as given); one copy to the host.
  std::vector<at::Tensor> reduced, given;
  for (const StepLog& step : unread_) {
    for (const auto& [name, value] : step.metrics) reduced.push_back(value.detach().reshape({1}).to(device_, at::kDouble));
  }
  std::vector<double> host = {stop ? 1.0 : 0.0};
  for (const auto& [name, value] : counters) host.push_back(value);
  reduced.push_back(at::tensor(host, at::kDouble).to(device_));
  at::Tensor summed = at::cat(reduced);
  if (group_) {
    std::vector<at::Tensor> packed = {summed};
    group_->all_reduce_sum(packed);
    summed = packed[0];
  }
  for (const StepLog& step : unread_) {
    for (const auto& [name, value] : step.scalars) given.push_back(value.detach().reshape({1}).to(device_, at::kDouble));
  }
  const at::Tensor values = (given.empty() ? summed : at::cat({summed, at::cat(given)})).cpu();
  ++host_reads_;
  const double* next = values.data_ptr<double>();
  const double* next_scalar = next + summed.numel();

  std::vector<StepValues> read;
  for (const StepLog& step : unread_) {
    StepValues values_of_step{step.after, step.global_step, step.lr, {}, {}};
    for (const auto& [name, value] : step.metrics) values_of_step.metrics[name] = *next++ / static_cast<double>(world_size());
    read.push_back(std::move(values_of_step));
  }
  stop = *next++ > 0.0;
  for (auto& [name, value] : counters) value = *next++;
  for (size_t i = 0; i < unread_.size(); ++i) {
    for (const auto& [name, value] : unread_[i].scalars) read[i].scalars[name] = *next_scalar++;
  }
  unread_.clear();

  for (const StepValues& step : read) {
    const auto loss = step.metrics.find("loss");
    if (loss != step.metrics.end() && !std::isfinite(loss->second)) {
      throw TrainingError("non-finite loss at epoch " + std::to_string(step.after.epoch) + " step " +
                          std::to_string(step.after.batch - 1) + (group_ ? " (averaged over the ranks):" : ":") +
                          values_text(step.metrics, " %s %.4f") + "; the last checkpoint" +
                          (last_checkpoint_.empty() ? std::string() : " (" + last_checkpoint_ + ")") +
                          " is the last good state");
    }
    if (!step.metrics.empty()) meters_.add(step.metrics);  // a skipped step has none
    if (!steps_log_.is_open()) continue;
    for (const auto& [name, value] : step.metrics) tensorboard_->add_scalar("train/" + name, value, step.global_step);
    tensorboard_->add_scalar("train/lr", step.lr, step.global_step);
    for (const auto& [name, value] : step.scalars) tensorboard_->add_scalar("train/" + name, value, step.global_step);
    nlohmann::ordered_json line = {{"step", step.global_step}, {"epoch", step.after.epoch}, {"lr", step.lr}};
    for (const auto& [name, value] : step.metrics) line[name] = value;
    for (const auto& [name, value] : step.scalars) line[name] = value;
    steps_log_ << line.dump() << "\n";
  }
  if (steps_log_.is_open()) steps_log_ << std::flush;
  return read;
}

StepVerdict TrainingRun::end_step(StepLog step) {
  enter(RunPhase::kCollective);
  StepVerdict verdict;
  const bool stop_here = (hooks_.stop_requested && hooks_.stop_requested->load()) || stop_signal_received() ||
                         (hooks_.stop_after_steps > 0 && steps_this_run_ + 1 >= hooks_.stop_after_steps);
  const int64_t read_every = options_.print_freq > 0 ? options_.print_freq : 100;
  const bool last_of_epoch = step.step_in_epoch + 1 == steps_per_epoch_;
  const bool print_due = options_.print_freq > 0 && (step.step_in_epoch % options_.print_freq == 0 || last_of_epoch);
  const bool save_due = options_.save_every_steps > 0 && step.global_step % options_.save_every_steps == 0;
  const bool read_due = hooks_.read_every_step || step.step_in_epoch % read_every == 0 || last_of_epoch || save_due ||
                        (stop_here && !group_);
  std::map<std::string, double> counters = step.counters;
  const std::string note = step.note;
  const RunPosition after = step.after;
  const int64_t step_in_epoch = step.step_in_epoch, global_step = step.global_step;
  unread_.push_back(std::move(step));
  ++steps_this_run_;
  bool stop = false;
  if (read_due) {
    stop = stop_here;
    verdict.read = read_unread_steps(counters, stop);
    verdict.counters = counters;
    stopping_ = stop;
  }

  if (print_due) {
    const StepValues& values = verdict.read.back();
    const Clock::time_point now = Clock::now();
    const double interval = std::chrono::duration<double>(now - interval_start_).count();
    const double per_step = std::chrono::duration<double>(now - started_).count() / static_cast<double>(steps_this_run_);
    const double samples_per_second = interval > 0 ? static_cast<double>(interval_samples_) / interval : 0.0;
    progress(format_text("Epoch: [%lld][%lld/%lld] eta %s samples/s %.1f data %.0f%% lr %.3e",
                         static_cast<long long>(after.epoch), static_cast<long long>(step_in_epoch + 1),
                         static_cast<long long>(steps_per_epoch_),
                         format_duration(per_step * static_cast<double>(epochs_ * steps_per_epoch_ - global_step)).c_str(),
                         samples_per_second, interval > 0 ? 100.0 * data_seconds_ / interval : 0.0, values.lr) +
                 values_text(values.metrics, " %s %.4f") + values_text(values.scalars, " %s %.2f") + " mem " +
                 memory_text(device_) + values_text(verdict.counters, " %s %.0f") + note,
             static_cast<double>(step_in_epoch + 1) / static_cast<double>(steps_per_epoch_));
    add_scalar("train/samples_per_second", samples_per_second, global_step);
    flush_scalars();
    interval_start_ = now;
    data_seconds_ = 0.0;
    interval_samples_ = 0;
  }

  const bool epoch_done = after.batch == batches_per_epoch_;
  if (!epoch_done && (stop || save_due)) save(after, /*is_best=*/false);
  if (stop && !epoch_done) {
    log("=> stopped at epoch " + std::to_string(after.epoch) + " step " + std::to_string(after.batch) + "; saved " +
        (last_checkpoint_.empty() ? std::string("nothing (no --output-dir)") : last_checkpoint_));
    verdict.stopped = true;
  }
  FaultPlan::current().after_step(global_step);
  return verdict;
}

bool TrainingRun::end_epoch(int64_t epoch, const nlohmann::ordered_json& log_line, bool is_best) {
  if (lead() && checkpoints_enabled()) {
    std::ofstream(fs::path(options_.output_dir) / "log.txt", std::ios::app) << log_line.dump() << "\n";
  }
  meters_.reset();
  save({epoch + 1, 0}, is_best);
  interval_start_ = Clock::now();
  data_seconds_ = 0.0;
  interval_samples_ = 0;
  if (!stopping_ || epoch + 1 >= epochs_) return false;
  log("=> stopped after epoch " + std::to_string(epoch) + "; saved " +
      (last_checkpoint_.empty() ? std::string("nothing (no --output-dir)") : last_checkpoint_));
  return true;
}

std::string TrainingRun::save(RunPosition at, bool is_best) {
  if (!model_) throw TrainingError("TrainingRun::save: track() the model first");
  enter(RunPhase::kCheckpoint);
  const std::string positions = gather_loader_positions();
  std::string failure;
  if (lead() && checkpoints_enabled()) {
    TrainingState state;
    state.epoch = at.epoch;
    state.batch = at.batch;
    state.best_acc1 = best_acc1_;
    if (parts_.optimizer.save) state.optimizer = parts_.optimizer.save();
    if (parts_.scaler.save) state.scaler = parts_.scaler.save();
    if (parts_.extra.save) state.loss = parts_.extra.save();
    state.rng = capture_rng_states();
    state.config_json = config_json_;
    state.model_config_json = model_config_json_;
    state.weights_metadata = weights_metadata_;
    state.meters_json = at.batch == 0 ? std::string() : meters_.to_json();
    state.data_positions_json = positions;
    try {
      last_checkpoint_ = write_checkpoint(options_.output_dir, *model_, state, is_best, options_.keep_checkpoints);
    } catch (const std::exception& e) {  // the others must hear of it, not wait for a barrier
      failure = e.what();
    }
  }
  // Every rank waits for the checkpoint it may have to resume from, and learns whether it failed.
  if (group_) {
    std::vector<at::Tensor> failed = {at::full({1}, failure.empty() ? 0.0f : 1.0f, at::TensorOptions(device_))};
    group_->all_reduce_max(failed);
    if (failure.empty() && failed[0].item<float>() > 0.0f) failure = "rank 0 could not save a checkpoint (its log says why)";
  }
  if (!failure.empty()) throw TrainingError(failure);
  return lead() ? last_checkpoint_ : std::string();
}

void TrainingRun::add_scalar(const std::string& tag, double value, int64_t step) {
  if (tensorboard_) tensorboard_->add_scalar(tag, value, step);
}

void TrainingRun::flush_scalars() {
  if (tensorboard_) tensorboard_->flush();
}

}  // namespace slipstream
