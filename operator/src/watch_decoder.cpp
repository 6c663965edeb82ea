#include "llmops/kube/watch_decoder.h"

namespace llmops::kube {

namespace {

WatchEvent decode_line(std::string_view line) {
  nlohmann::json value = nlohmann::json::parse(line, nullptr, false);
  if (value.is_discarded() || !value.is_object()) {
    throw WatchDecodeError("watch: line is not JSON: " + std::string(line.substr(0, 120)));
  }
  auto type = value.find("type");
  auto object = value.find("object");
  if (type == value.end() || !type->is_string() || object == value.end() || !object->is_object()) {
    throw WatchDecodeError("watch: event lacks type or object: " +
                           std::string(line.substr(0, 120)));
  }
  return WatchEvent{type->get<std::string>(), std::move(*object)};
}

}  // namespace

void WatchDecoder::feed(std::string_view chunk, const std::function<void(WatchEvent)>& on_event) {
  buffer_.append(chunk);
  std::size_t start = 0;
  for (;;) {
    std::size_t newline = buffer_.find('\n', start);
    if (newline == std::string::npos) break;
    std::string_view line(buffer_.data() + start, newline - start);
    start = newline + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) continue;
    on_event(decode_line(line));
  }
  buffer_.erase(0, start);
}

}  // namespace llmops::kube
