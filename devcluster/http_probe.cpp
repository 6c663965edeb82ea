#include "http_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace llmops::devcluster {

namespace {

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

enum class Wait { kReady, kTimeout, kCancelled };

// Waits for `events` on `fd` until the deadline or until `cancelFd` is readable.
Wait waitFor(int fd, short events, std::chrono::steady_clock::time_point deadline, int cancelFd) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Wait::kTimeout;
    pollfd entries[2] = {{fd, events, 0}, {cancelFd, POLLIN, 0}};
    int ready = poll(entries, cancelFd >= 0 ? 2 : 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Wait::kTimeout;
    if (cancelFd >= 0 && entries[1].revents != 0) return Wait::kCancelled;
    if (ready > 0) return Wait::kReady;
  }
}

std::string waitFailure(Wait wait, const char* what) {
  return wait == Wait::kCancelled ? std::string("probe cancelled (kubelet stopping)")
                                  : std::string(what) + " timed out";
}

// Connects to host:port before the deadline; the socket on success, else -1 and `error`.
int connectTo(const std::string& host, int port, std::chrono::steady_clock::time_point deadline,
              int cancelFd, std::string& error) {
  if (port <= 0 || port > 65535) {
    error = "invalid probe port " + std::to_string(port);
    return -1;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    error = "invalid probe host " + host;
    return -1;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (errno != EINPROGRESS) {
      error = std::string("connect: ") + std::strerror(errno);
      close(fd);
      return -1;
    }
    Wait wait = waitFor(fd, POLLOUT, deadline, cancelFd);
    if (wait != Wait::kReady) {
      error = waitFailure(wait, "connect");
      close(fd);
      return -1;
    }
    int failure = 0;
    socklen_t length = sizeof failure;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length);
    if (failure != 0) {
      error = std::string("connect: ") + std::strerror(failure);
      close(fd);
      return -1;
    }
  }
  return fd;
}

}  // namespace

ProbeResult httpGetProbe(const std::string& host, int port, const std::string& path,
                         std::chrono::milliseconds timeout, int cancelFd) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string error;
  Socket socket(connectTo(host, port, deadline, cancelFd, error));
  if (socket.fd() < 0) return {false, error};
  const std::string request = "GET " + (path.empty() ? std::string("/") : path) +
                              " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                              "\r\nUser-Agent: kube-probe/1.32\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    Wait wait = waitFor(socket.fd(), POLLOUT, deadline, cancelFd);
    if (wait != Wait::kReady) return {false, waitFailure(wait, "send")};
    ssize_t n = send(socket.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) return {false, std::string("send: ") + std::strerror(errno)};
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string reply;
  while (reply.find("\r\n") == std::string::npos) {
    Wait wait = waitFor(socket.fd(), POLLIN, deadline, cancelFd);
    if (wait == Wait::kCancelled) return {false, waitFailure(wait, "reply")};
    if (wait != Wait::kReady) return {false, "no reply before the timeout"};
    char buffer[512];
    ssize_t n = recv(socket.fd(), buffer, sizeof buffer, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN) continue;
      return {false, std::string("recv: ") + std::strerror(errno)};
    }
    reply.append(buffer, static_cast<size_t>(n));
  }
  // "HTTP/1.1 200 OK"
  auto space = reply.find(' ');
  if (space == std::string::npos || reply.size() < space + 4) return {false, "malformed reply"};
  int code = std::atoi(reply.substr(space + 1, 3).c_str());
  if (code >= 200 && code < 400) return {true, ""};
  return {false, "HTTP probe failed with statuscode: " + std::to_string(code)};
}

ProbeResult tcpSocketProbe(const std::string& host, int port, std::chrono::milliseconds timeout,
                           int cancelFd) {
  std::string error;
  Socket socket(connectTo(host, port, std::chrono::steady_clock::now() + timeout, cancelFd, error));
  if (socket.fd() < 0) return {false, error};
  return {true, ""};
}

}  // namespace llmops::devcluster
