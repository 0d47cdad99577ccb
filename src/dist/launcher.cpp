#include "slipstream/dist/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

std::atomic<int> g_forward_signal{0};
std::atomic<bool> g_stopped_by_signal{false};  // the user or the scheduler stopped the run: no restart

extern "C" void remember_signal(int signal) {
  g_forward_signal.store(signal);
  g_stopped_by_signal.store(true);
}

struct Worker {
  int rank = 0;
  pid_t pid = -1;
  int output = -1;      // read end of the worker's stdout + stderr
  std::string pending;  // a partial line
  bool running = true;
  int exit_code = 0;
};

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// One start of the worker group, run to its end: the workers' exit code as launch_workers
// describes it, and in `failure` what ended it ("" when all exited 0).
int run_group(const LaunchOptions& options, const std::vector<std::string>& command, int restart,
              const std::function<void(const std::string&)>& print, std::string& failure) {
  const int world = options.nproc_per_node * options.nnodes;
  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  struct sigaction previous_int {}, previous_term {};
  sigaction(SIGINT, &action, &previous_int);
  sigaction(SIGTERM, &action, &previous_term);
  g_forward_signal.store(0);

  std::vector<Worker> workers(static_cast<size_t>(options.nproc_per_node));
  for (int local = 0; local < options.nproc_per_node; ++local) {
    Worker& worker = workers[static_cast<size_t>(local)];
    worker.rank = options.node_rank * options.nproc_per_node + local;
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) throw ConfigError(std::string("slip_run: pipe failed: ") + std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(pipe_fds[1], STDOUT_FILENO);
      ::dup2(pipe_fds[1], STDERR_FILENO);
      ::close(pipe_fds[0]);
      ::close(pipe_fds[1]);
      ::signal(SIGINT, SIG_DFL);
      ::signal(SIGTERM, SIG_DFL);
      ::setenv("RANK", std::to_string(worker.rank).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(local).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(world).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(options.nproc_per_node).c_str(), 1);
      ::setenv("GROUP_RANK", std::to_string(options.node_rank).c_str(), 1);
      ::setenv("MASTER_ADDR", options.master_addr.c_str(), 1);
      ::setenv("MASTER_PORT", std::to_string(options.master_port).c_str(), 1);
      ::setenv("TORCHELASTIC_RESTART_COUNT", std::to_string(restart).c_str(), 1);  // torchrun's names
      ::setenv("TORCHELASTIC_MAX_RESTARTS", std::to_string(options.max_restarts).c_str(), 1);
      // torchrun's default: one intra-op thread per worker unless the user chose otherwise.
      if (options.nproc_per_node > 1) ::setenv("OMP_NUM_THREADS", "1", 0);
      std::vector<char*> argv;
      for (const std::string& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
      argv.push_back(nullptr);
      ::execvp(argv[0], argv.data());
      std::fprintf(stderr, "slip_run: cannot run %s: %s\n", argv[0], std::strerror(errno));
      ::_exit(127);
    }
    ::close(pipe_fds[1]);
    if (pid < 0) throw ConfigError(std::string("slip_run: fork failed: ") + std::strerror(errno));
    worker.pid = pid;
    worker.output = pipe_fds[0];
    ::fcntl(worker.output, F_SETFL, ::fcntl(worker.output, F_GETFL) | O_NONBLOCK);
  }

  // Prints the complete lines a worker has written; at its end (final), the partial last one too.
  const auto flush_output = [&](Worker& worker, bool final) {
    const std::string prefix = "[rank " + std::to_string(worker.rank) + "] ";
    char buffer[65536];
    while (worker.output >= 0) {
      const ssize_t got = ::read(worker.output, buffer, sizeof(buffer));
      if (got < 0 && errno == EINTR) continue;
      if (got > 0) {
        worker.pending.append(buffer, static_cast<size_t>(got));
        for (size_t newline; (newline = worker.pending.find('\n')) != std::string::npos;) {
          print(prefix + worker.pending.substr(0, newline));
          worker.pending.erase(0, newline + 1);
        }
        continue;
      }
      if (got == 0) {  // every writer is gone
        ::close(worker.output);
        worker.output = -1;
      }
      break;
    }
    if ((final || worker.output < 0) && !worker.pending.empty()) {
      print(prefix + worker.pending);
      worker.pending.clear();
    }
  };
  const auto signal_all = [&](int signal) {
    for (Worker& worker : workers) {
      if (worker.running) ::kill(worker.pid, signal);
    }
  };

  int result = 0;
  bool stopping = false;
  std::chrono::steady_clock::time_point stop_deadline;
  size_t running = workers.size();
  while (running > 0) {
    std::vector<pollfd> fds;
    for (Worker& worker : workers) {
      if (worker.output >= 0) fds.push_back({worker.output, POLLIN, 0});
    }
    ::poll(fds.data(), fds.size(), 100);
    for (Worker& worker : workers) flush_output(worker, false);

    // The user's Ctrl-C or the scheduler's SIGTERM goes to every worker, which may take its time to
    // save a checkpoint (the scheduler enforces its own deadline).
    if (const int signal = g_forward_signal.exchange(0)) signal_all(signal);
    for (Worker& worker : workers) {
      if (!worker.running) continue;
      int status = 0;
      if (::waitpid(worker.pid, &status, WNOHANG) != worker.pid) continue;
      worker.running = false;
      --running;
      worker.exit_code = exit_code_of(status);
      flush_output(worker, true);
      if (worker.exit_code != 0 && result == 0) {
        result = worker.exit_code;
        failure = "rank " + std::to_string(worker.rank) + " exited with code " + std::to_string(worker.exit_code) +
                  (worker.exit_code > 128 ? " (signal " + std::to_string(worker.exit_code - 128) + ")" : "");
        print("slip_run: rank " + std::to_string(worker.rank) + " exited with code " + std::to_string(worker.exit_code) +
              (running > 0 ? "; stopping the other workers" : ""));
        if (running > 0) {
          signal_all(SIGTERM);
          stopping = true;
          stop_deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(static_cast<int64_t>(options.stop_grace_seconds * 1000));
        }
      }
    }
    if (stopping && running > 0 && std::chrono::steady_clock::now() > stop_deadline) {
      char text[128];
      std::snprintf(text, sizeof(text), "slip_run: workers still running %g s after SIGTERM; killing them",
                    options.stop_grace_seconds);
      print(text);
      signal_all(SIGKILL);
      stopping = false;
    }
  }
  for (Worker& worker : workers) {
    if (worker.output >= 0) ::close(worker.output);
  }
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);
  if (g_stopped_by_signal.load() && !failure.empty()) failure += ", after a stop signal";
  return result;
}

}  // namespace

int launch_workers(const LaunchOptions& options, const std::vector<std::string>& command,
                   const std::function<void(const std::string&)>& print_line) {
  if (command.empty()) throw ConfigError("slip_run: expected a command to run after the options");
  if (options.nproc_per_node < 1 || options.nnodes < 1 || options.node_rank < 0 || options.node_rank >= options.nnodes) {
    throw ConfigError("slip_run: expected --nproc-per-node >= 1, --nnodes >= 1 and 0 <= --node-rank < --nnodes");
  }
  if (options.max_restarts < 0) throw ConfigError("slip_run: --max-restarts " + std::to_string(options.max_restarts) + ": expected 0 or more");
  if (options.max_restarts > 0 && options.nnodes > 1) {
    throw ConfigError("slip_run: --max-restarts restarts one node's workers; with --nnodes " + std::to_string(options.nnodes) +
                      " use torchrun's elastic agent or the scheduler's requeue (a rerun resumes from the last checkpoint)");
  }
  const auto print = [&](const std::string& line) {
    if (print_line) {
      print_line(line);
    } else {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
      std::fflush(stdout);
    }
  };
  g_stopped_by_signal.store(false);
  std::vector<std::string> causes;
  for (int restart = 0;; ++restart) {
    std::string failure;
    const int result = run_group(options, command, restart, print, failure);
    // A run that ended by itself, or that the user or scheduler stopped, is not started again.
    if (result == 0 || g_stopped_by_signal.load() || restart >= options.max_restarts) {
      if (restart > 0) {
        std::string summary = "slip_run: " + std::to_string(restart) + " restart" + (restart == 1 ? "" : "s") + " (";
        for (size_t i = 0; i < causes.size(); ++i) summary += (i ? "; " : "") + causes[i];
        print(summary + ")" + (result == 0 ? ", then the workers finished" : ", then gave up: " + failure));
      }
      return result;
    }
    causes.push_back(failure);
    print("slip_run: restarting the workers (restart " + std::to_string(restart + 1) + " of --max-restarts " +
          std::to_string(options.max_restarts) + ") after " + failure);
  }
}

}  // namespace slipstream
