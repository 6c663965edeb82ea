// The kubelet's probes without a kubelet: tcpSocket against a bound and a listening
// socket, httpGet and tcpSocket cancelled while waiting, exec commands by exit status,
// environment, working directory and timeout, and the runner cancelling a hanging probe.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "exec_probe.h"
#include "http_probe.h"
#include "probe_runner.h"

namespace llmops::devcluster {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A TCP socket bound to 127.0.0.1 on a free port; connections are refused until listen().
class BoundSocket {
 public:
  BoundSocket() : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    socklen_t length = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~BoundSocket() { close(fd_); }
  void listenNow() { ASSERT_EQ(listen(fd_, 16), 0); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

class EventFd {
 public:
  EventFd() : fd_(eventfd(0, EFD_CLOEXEC)) {}
  ~EventFd() { close(fd_); }
  void signal() {
    uint64_t one = 1;
    ASSERT_EQ(write(fd_, &one, sizeof one), static_cast<ssize_t>(sizeof one));
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

TEST(TcpSocketProbe, FailsOnAClosedPortAndSucceedsOnceItListens) {
  BoundSocket server;
  ProbeResult closed = tcpSocketProbe("127.0.0.1", server.port(), seconds(5));
  EXPECT_FALSE(closed.success);
  EXPECT_NE(closed.message.find("connect"), std::string::npos) << closed.message;
  server.listenNow();
  ProbeResult open = tcpSocketProbe("127.0.0.1", server.port(), seconds(5));
  EXPECT_TRUE(open.success) << open.message;
}

TEST(TcpSocketProbe, RejectsBadTargets) {
  EXPECT_FALSE(tcpSocketProbe("not-an-ip", 80, seconds(1)).success);
  EXPECT_FALSE(tcpSocketProbe("127.0.0.1", 0, seconds(1)).success);
  EXPECT_FALSE(tcpSocketProbe("127.0.0.1", 70000, seconds(1)).success);
}

TEST(HttpGetProbe, GivesUpWhenCancelledWhileTheServerNeverReplies) {
  BoundSocket server;
  server.listenNow();  // accepts (in the backlog) and never answers
  EventFd cancel;
  auto probe = std::async(std::launch::async, [&] {
    return httpGetProbe("127.0.0.1", server.port(), "/healthz", seconds(3600), cancel.fd());
  });
  EXPECT_EQ(probe.wait_for(milliseconds(200)), std::future_status::timeout);
  cancel.signal();
  ProbeResult result = probe.get();
  EXPECT_FALSE(result.success);
  EXPECT_NE(result.message.find("cancelled"), std::string::npos) << result.message;
}

class ExecProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("exec-probe-test." + std::to_string(getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  ExecProbeSpec spec(std::vector<std::string> argv) {
    ExecProbeSpec spec;
    spec.executable = argv.empty() ? "" : argv.front();
    spec.argv = std::move(argv);
    spec.env = {{"PATH", "/usr/bin:/bin"}, {"PROBE_VALUE", "from-the-container"}};
    spec.workingDir = dir_.string();
    spec.outputPath = (dir_ / "probe.out").string();
    return spec;
  }
  std::filesystem::path dir_;
};

TEST_F(ExecProbe, SucceedsOnExitZeroOnly) {
  EXPECT_TRUE(execProbe(spec({"/bin/true"}), seconds(30)).success);
  ProbeResult failed = execProbe(spec({"/bin/false"}), seconds(30));
  EXPECT_FALSE(failed.success);
  EXPECT_EQ(failed.message, "command exited with 1");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "probe.out"));
}

TEST_F(ExecProbe, ReportsTheOutputOfAFailure) {
  ProbeResult result = execProbe(spec({"/bin/sh", "-c", "echo not healthy; exit 3"}), seconds(30));
  EXPECT_FALSE(result.success);
  EXPECT_EQ(result.message, "command exited with 3: not healthy");
}

TEST_F(ExecProbe, RunsInTheContainersEnvironmentAndDirectoryWithoutAShell) {
  std::ofstream(dir_ / "marker") << "x";
  EXPECT_TRUE(execProbe(spec({"/bin/sh", "-c",
                              "test \"$PROBE_VALUE\" = from-the-container && test -f marker"}),
                        seconds(30))
                  .success);
  // argv as given: no shell expands the word.
  EXPECT_TRUE(
      execProbe(spec({"/usr/bin/test", "$PROBE_VALUE", "=", "$PROBE_VALUE"}), seconds(30)).success);
  EXPECT_FALSE(
      execProbe(spec({"/usr/bin/test", "$PROBE_VALUE", "=", "from-the-container"}), seconds(30))
          .success);
}

TEST_F(ExecProbe, FailsForAMissingCommand) {
  ProbeResult result = execProbe(spec({"/nonexistent/probe"}), seconds(30));
  EXPECT_FALSE(result.success);
  EXPECT_NE(result.message.find("exited with 127"), std::string::npos) << result.message;
  EXPECT_FALSE(execProbe(spec({}), seconds(30)).success);
}

TEST_F(ExecProbe, KillsTheCommandAtTheTimeout) {
  std::string pidFile = (dir_ / "pid").string();
  ProbeResult result = execProbe(
      spec({"/bin/sh", "-c", "echo $$ > " + pidFile + "; exec sleep 3600"}), milliseconds(300));
  EXPECT_FALSE(result.success);
  EXPECT_NE(result.message.find("timed out"), std::string::npos) << result.message;
  int pid = 0;
  std::ifstream(pidFile) >> pid;
  ASSERT_GT(pid, 0);
  EXPECT_NE(kill(pid, 0), 0) << "the probe command still runs";
}

TEST_F(ExecProbe, StopsWhenCancelled) {
  EventFd cancel;
  cancel.signal();
  ProbeResult result = execProbe(spec({"/bin/sleep", "3600"}), seconds(3600), cancel.fd());
  EXPECT_FALSE(result.success);
  EXPECT_NE(result.message.find("cancelled"), std::string::npos) << result.message;
}

TEST(ProbeRunner, StopCancelsAHangingProbe) {
  BoundSocket server;
  server.listenNow();
  std::promise<ProbeResult> delivered;
  std::atomic<bool> started{false};
  ProbeRunner runner;
  runner.run([&](int cancelFd) {
    started = true;
    delivered.set_value(httpGetProbe("127.0.0.1", server.port(), "/", seconds(3600), cancelFd));
  });
  while (!started) std::this_thread::yield();
  EXPECT_EQ(runner.running(), 1u);
  runner.stop();
  EXPECT_EQ(runner.running(), 0u);
  ProbeResult result = delivered.get_future().get();
  EXPECT_FALSE(result.success);
  bool ranAfterStop = false;
  runner.run([&](int) { ranAfterStop = true; });
  runner.stop();
  EXPECT_FALSE(ranAfterStop);
}

}  // namespace
}  // namespace llmops::devcluster
