// Opens, binds and listens an acceptor on ADDRESS:PORT (port 0 picks a free one), for the
// servers that run their own Asio loop: throws std::runtime_error naming the address.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace llmops::http {

// Returns the port bound.
inline uint16_t listenOn(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address,
                         uint16_t port) {
  namespace net = boost::asio;
  boost::system::error_code ec;
  const auto ip = net::ip::make_address(address, ec);
  if (ec) throw std::runtime_error("invalid listen address " + address);
  const net::ip::tcp::endpoint endpoint(ip, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + address + ":" + std::to_string(port) + ": " +
                             ec.message());
  }
  return acceptor.local_endpoint().port();
}

}  // namespace llmops::http
