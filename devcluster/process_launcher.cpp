#include "process_launcher.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace llmops::devcluster {

pid_t launchProcess(const LaunchSpec& spec) {
  if (spec.argv.empty()) throw std::runtime_error("empty command line");
  // Everything the child needs is prepared before fork: after it only async-signal-safe
  // calls are allowed.
  std::vector<std::string> envStrings;
  for (const auto& [name, value] : spec.env) envStrings.push_back(name + "=" + value);
  std::vector<char*> argv, envp;
  for (const auto& word : spec.argv) argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);
  for (auto& entry : envStrings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  for (int cpu : spec.cpus) CPU_SET(cpu, &cpus);
  const std::string failure = "exec " + spec.executable + " failed: ";

  int logFd = open(spec.logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (logFd < 0) {
    throw std::runtime_error("cannot open " + spec.logPath + ": " + std::strerror(errno));
  }
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int error = errno;
    close(logFd);
    throw std::runtime_error(std::string("fork failed: ") + std::strerror(error));
  }
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(137);  // the parent died before PDEATHSIG was armed
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int signal = 1; signal < NSIG; ++signal) ::signal(signal, SIG_DFL);
    int devNull = open("/dev/null", O_RDONLY);
    if (devNull >= 0) dup2(devNull, 0);
    dup2(logFd, 1);
    dup2(logFd, 2);
    if (!spec.cpus.empty()) sched_setaffinity(0, sizeof cpus, &cpus);
    if (!spec.workingDir.empty() && chdir(spec.workingDir.c_str()) != 0) {
      const char* message = "cannot change to the working directory\n";
      (void)!write(2, message, std::strlen(message));
      _exit(127);
    }
    execve(spec.executable.c_str(), argv.data(), envp.data());
    const char* reason = std::strerror(errno);
    (void)!write(2, failure.data(), failure.size());
    (void)!write(2, reason, std::strlen(reason));
    (void)!write(2, "\n", 1);
    _exit(127);
  }
  close(logFd);
  setpgid(pid, pid);  // also from the parent, so a signal right away reaches the group
  return pid;
}

void signalProcessGroup(pid_t pid, int signal) {
  if (pid <= 0) return;
  kill(-pid, signal);
  kill(pid, signal);
}

}  // namespace llmops::devcluster
