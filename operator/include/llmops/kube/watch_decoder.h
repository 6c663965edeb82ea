// Splits a watch response body into events. The server writes one JSON object per line
// but the network delivers arbitrary chunks: a chunk may hold half an event, or several.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace llmops::kube {

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  nlohmann::json object;
};

class WatchDecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class WatchDecoder {
 public:
  // Calls on_event for every complete line in buffered + chunk, in order. Throws
  // WatchDecodeError for a line that is not a watch event.
  void feed(std::string_view chunk, const std::function<void(WatchEvent)>& on_event);
  // Bytes of an incomplete event waiting for the rest.
  std::size_t pending() const { return buffer_.size(); }

 private:
  std::string buffer_;
};

}  // namespace llmops::kube
