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

// Waits for `events` until the deadline; false on timeout.
bool waitFor(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd entry{fd, events, 0};
  return poll(&entry, 1, static_cast<int>(left.count())) > 0;
}

}  // namespace

ProbeResult httpGetProbe(const std::string& host, int port, const std::string& path,
                         std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    return {false, "invalid probe host " + host};
  }
  Socket socket(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (socket.fd() < 0) return {false, std::string("socket: ") + std::strerror(errno)};
  if (connect(socket.fd(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (errno != EINPROGRESS) return {false, std::string("connect: ") + std::strerror(errno)};
    if (!waitFor(socket.fd(), POLLOUT, deadline)) return {false, "connect timed out"};
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(socket.fd(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) return {false, std::string("connect: ") + std::strerror(error)};
  }
  const std::string request = "GET " + (path.empty() ? std::string("/") : path) +
                              " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                              "\r\nUser-Agent: kube-probe/1.32\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    if (!waitFor(socket.fd(), POLLOUT, deadline)) return {false, "send timed out"};
    ssize_t n = send(socket.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) return {false, std::string("send: ") + std::strerror(errno)};
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string reply;
  while (reply.find("\r\n") == std::string::npos) {
    if (!waitFor(socket.fd(), POLLIN, deadline)) return {false, "no reply before the timeout"};
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

}  // namespace llmops::devcluster
