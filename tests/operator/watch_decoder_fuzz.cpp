// Fuzzes the watch decoder: any bytes, split at a point chosen by the input, must decode
// to the same events as the unsplit stream or fail with WatchDecodeError only.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "llmops/kube/watch_decoder.h"

namespace {

std::vector<std::string> decode(const std::vector<std::string_view>& pieces, bool& failed) {
  llmops::kube::WatchDecoder decoder;
  std::vector<std::string> events;
  try {
    for (auto piece : pieces) {
      decoder.feed(piece, [&events](llmops::kube::WatchEvent event) {
        events.push_back(event.type + " " + event.object.dump());
      });
    }
  } catch (const llmops::kube::WatchDecodeError&) {
    failed = true;
  }
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t cut = text.empty() ? 0 : data[0] % (text.size() + 1);
  bool whole_failed = false;
  bool split_failed = false;
  auto whole = decode({text}, whole_failed);
  auto split = decode({text.substr(0, cut), text.substr(cut)}, split_failed);
  if (whole_failed != split_failed) __builtin_trap();
  if (!whole_failed && whole != split) __builtin_trap();
  return 0;
}
