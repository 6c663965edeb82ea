#include "exec_probe.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "process_launcher.h"

namespace llmops::devcluster {

namespace {

// What the command printed, at most the first KiB, for the failure message.
std::string outputOf(const std::string& path) {
  constexpr size_t kMaxBytes = 1024;
  std::ifstream in(path, std::ios::binary);
  std::string output(kMaxBytes, '\0');
  in.read(output.data(), static_cast<std::streamsize>(kMaxBytes));
  output.resize(static_cast<size_t>(in.gcount()));
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  return output;
}

void killAndReap(pid_t pid) {
  signalProcessGroup(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

ProbeResult execProbe(const ExecProbeSpec& spec, std::chrono::milliseconds timeout, int cancelFd) {
  if (spec.argv.empty()) return {false, "exec probe without a command"};
  std::error_code ignored;
  std::filesystem::remove(spec.outputPath, ignored);
  LaunchSpec launch;
  launch.executable = spec.executable;
  launch.argv = spec.argv;
  launch.env = spec.env;
  launch.workingDir = spec.workingDir;
  launch.logPath = spec.outputPath;
  pid_t pid = 0;
  try {
    pid = launchProcess(launch);
  } catch (const std::runtime_error& error) {
    return {false, error.what()};
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  ProbeResult result;
  for (;;) {
    // Look without reaping: while the exited command is a zombie its pid (and process
    // group id) cannot be reused, so its leftover children can be killed safely.
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) < 0) {
      if (errno == EINTR) continue;
      result = {false, std::string("waitid failed for the probe command")};
      break;
    }
    if (info.si_pid == pid) {
      kill(-pid, SIGKILL);
      int status = 0;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        result = {true, ""};
      } else {
        std::string output = outputOf(spec.outputPath);
        result.message = WIFEXITED(status)
                             ? "command exited with " + std::to_string(WEXITSTATUS(status))
                             : "command killed by signal " + std::to_string(WTERMSIG(status));
        if (!output.empty()) result.message += ": " + output;
      }
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      killAndReap(pid);
      result = {false, "command timed out after " + std::to_string(timeout.count()) + " ms"};
      break;
    }
    // Sleep a little (or until cancelled) before looking at the process again.
    pollfd entry{cancelFd, POLLIN, 0};
    int slice = static_cast<int>(std::min<std::chrono::milliseconds::rep>(left.count(), 10));
    if (poll(&entry, cancelFd >= 0 ? 1 : 0, slice) > 0) {
      killAndReap(pid);
      result = {false, "probe cancelled (kubelet stopping)"};
      break;
    }
  }
  std::filesystem::remove(spec.outputPath, ignored);
  return result;
}

}  // namespace llmops::devcluster
