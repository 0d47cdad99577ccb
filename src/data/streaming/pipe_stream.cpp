#include "pipe_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

extern char** environ;

namespace slipstream {
namespace {

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "the command exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "the command was killed by signal " + std::to_string(WTERMSIG(status));
  return "the command ended abnormally";
}

}  // namespace

PipeStream::PipeStream(const std::string& url, const std::string& command, const ShardSourceOptions& options)
    : url_(url), options_(options) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw ShardError(url, std::string("cannot create a pipe: ") + std::strerror(errno));
  // posix_spawn, not fork: safe in a process with many threads. The child gets the pipe as its
  // standard output, /dev/null as its standard input, and a process group of its own so that
  // ending it also ends what it started (aws, gsutil, curl).
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
  const int failed = ::posix_spawn(&pid_, "/bin/sh", &actions, &attributes, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ::close(fds[1]);
  if (failed != 0) {
    ::close(fds[0]);
    pid_ = -1;
    throw ShardError(url, std::string("cannot start /bin/sh: ") + std::strerror(failed));
  }
  fd_ = fds[0];
}

PipeStream::~PipeStream() {
  if (fd_ >= 0) ::close(fd_);
  end_command();
}

void PipeStream::end_command() {
  if (pid_ <= 0) return;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == 0) {
    ::kill(-pid_, SIGTERM);
    for (int i = 0; i < 50 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (i == 49) {
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
    }
  }
  pid_ = -1;
}

size_t PipeStream::read(char* buffer, size_t size) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration<double>(options_.stall_timeout_seconds);
  while (true) {
    if (options_.cancelled && options_.cancelled->load()) {
      end_command();
      throw ShardError(url_, "cancelled");
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      end_command();
      char seconds[32];
      std::snprintf(seconds, sizeof(seconds), "%g", options_.stall_timeout_seconds);
      throw ShardError(url_, std::string("no data for ") + seconds + " s (--shard-timeout): the command was ended");
    }
    pollfd ready{fd_, POLLIN, 0};
    const int polled = ::poll(&ready, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (polled < 0 && errno != EINTR) throw ShardError(url_, std::string("poll failed: ") + std::strerror(errno));
    if (polled <= 0) continue;
    const ssize_t got = ::read(fd_, buffer, size);
    if (got > 0) return static_cast<size_t>(got);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got < 0) throw ShardError(url_, std::string("read error: ") + std::strerror(errno));
    // End of the output: the shard is whole only if the command succeeded.
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    throw ShardError(url_, describe_status(status));
  }
}

}  // namespace slipstream
